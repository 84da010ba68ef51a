// Codec: msgpack encoding and strict decoding of wire messages (PROTOCOL.md).
//
// Decoding never trusts its input: it unpacks with size and depth limits, checks the envelope,
// every field's presence and type, row widths, finiteness and counts, and reports the first
// problem as a DecodeError with a code and a message that says what was wrong and where
// ("score_request.rows[3][7]: NaN"). It never throws and never aborts on any input.
// Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "wire/messages.h"

namespace reflex::wire {

struct Limits {
  size_t max_message_bytes = 16u << 20;  // whole frame
  size_t max_rows = 10000;               // rows in one score request
  size_t max_cols = 4096;                // features per row
  size_t max_array = 1u << 24;           // elements in any array
  size_t max_string = 1u << 16;          // bytes in any string
  size_t max_depth = 8;                  // msgpack nesting
  bool allow_non_finite = false;         // NaN/Inf in rows rejected by default
  uint32_t expected_cols = 0;            // when non-zero, score requests must have this width
                                         // (unless they name their columns: the server checks)
  size_t max_labels = 10000;             // labels in one label_batch
};

struct DecodeError {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
};

// Either a message or the reason it was refused.
struct Decoded {
  std::optional<Message> message;
  DecodeError error;                     // code kOk when message is set
  std::optional<uint64_t> request_id;    // recovered when possible, so an error reply can be addressed
  uint32_t protocol_version = kProtocolVersion;  // the envelope's, once read (reply in kind)
  bool ok() const { return message.has_value(); }
};

// Writes the envelope with `protocol_version` (1 or 2; only score_reply's body differs).
std::string Encode(const Message& message, uint32_t protocol_version = kProtocolVersion);
Decoded Decode(const void* data, size_t size, const Limits& limits = {});
inline Decoded Decode(const std::string& frame, const Limits& limits = {}) {
  return Decode(frame.data(), frame.size(), limits);
}

}  // namespace reflex::wire
