// Strict conversion of single msgpack values (already unpacked by msgpack-c) into C++ values.
//
// DecodeContext carries the limits and the first error of one Decode call; every converter
// checks the msgpack type and range of its value and, on a mismatch, records an error that names
// the place (`where`, e.g. "heal_job.labels[3]") and returns false. Once an error is recorded,
// later ones are ignored, so the message reports the first problem. Converters never throw.
//
// Ownership: a DecodeContext is owned by one Decode call; the msgpack objects it reads are owned
// by msgpack-c's zone and the frame bytes (string and bin values reference the frame), which
// must outlive the reading. Thread-safety: one context per thread. Internal to libs/wire.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wire/codec.h"

namespace reflex::wire {

class DecodeContext {
 public:
  explicit DecodeContext(const Limits& limits) : limits_(limits) {}

  const Limits& limits() const { return limits_; }
  // The envelope's protocol version (1 until the envelope is read).
  uint32_t protocol_version() const { return protocol_version_; }
  void set_protocol_version(uint32_t version) { protocol_version_ = version; }
  bool ok() const { return error_.code == ErrorCode::kOk; }
  const DecodeError& error() const { return error_; }

  // Records "<where>: <what>" unless an error is already recorded. Always returns false.
  bool Fail(ErrorCode code, const std::string& where, const std::string& what);

 private:
  const Limits& limits_;
  DecodeError error_;
  uint32_t protocol_version_ = 1;
};

// "nil", "bool", "unsigned integer", "negative integer", "float32", "float64", "str", "bin",
// "array", "map", "ext".
const char* MsgpackTypeName(const msgpack::object& value);

// `text` in single quotes for an error message: at most 40 bytes (then "..."), with bytes outside
// printable ASCII written as \xNN, so untrusted names cannot flood or garble a log line.
std::string QuoteForMessage(std::string_view text);

// Unsigned integer <= max; `type_name` ("uint32") is used in the range error.
bool ReadUnsigned(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                  uint64_t max, const char* type_name, uint64_t* out);
bool ReadInt64(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
               int64_t* out);
// Any integer or float, as a double. Does not check finiteness.
bool ReadNumber(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                double* out);
// Any integer or float narrowed to float32. A finite number outside float32's range is refused
// with kNonFinite unless limits().allow_non_finite. Does not otherwise check finiteness.
bool ReadNumberAsFloat(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                       float* out);
// ReadNumberAsFloat's fast path for hot loops: true when `value` converts without an error;
// records nothing (call ReadNumberAsFloat on false to record the error with its place).
bool TryNumberAsFloat(const msgpack::object& value, bool allow_non_finite, float* out);
bool ReadBool(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
              bool* out);
bool ReadString(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                std::string* out);

// A float32 vector: a bin of little-endian IEEE-754 float32 values (what Encode writes), or a
// flat array of numbers (what a hand-written client may send). At most limits().max_array values.
bool ReadFloat32Vector(DecodeContext& ctx, const msgpack::object& value, const std::string& where,
                       std::vector<float>* out);

// Unless limits().allow_non_finite, refuses the first NaN or infinity with kNonFinite, naming it
// "<where>[i]", or "<where>[row][col]" when cols > 0.
bool CheckFinite(DecodeContext& ctx, const std::vector<float>& values, const std::string& where,
                 uint32_t cols = 0);
bool CheckFinite(DecodeContext& ctx, double value, const std::string& where);

}  // namespace reflex::wire
