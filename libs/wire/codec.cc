// Decode(): the untrusted-input boundary. Checks the frame size, pre-scans the msgpack structure
// (msgpack_prescan.h) so nothing is allocated for elements that are not there, unpacks with
// msgpack-c under unpack_limit (string and bin values reference the frame, nothing is copied),
// checks the envelope [protocol_version, type, body] and hands the body to its message decoder.
// Every msgpack-c exception is caught here and becomes a DecodeError.
#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "wire/codec.h"
#include "wire/message_decoders.h"
#include "wire/msgpack_prescan.h"

namespace reflex::wire {
namespace {

constexpr uint64_t kHighestType = static_cast<uint64_t>(MessageType::kLabelAck);

// String, bin and ext values point into the frame instead of being copied into the zone.
bool ReferenceFrameBytes(msgpack::type::object_type, std::size_t, void*) { return true; }

// Limits for msgpack-c itself: the pre-scan already enforced these, this is a second fence.
msgpack::unpack_limit UnpackLimitFor(const Limits& limits, size_t frame_bytes) {
  const size_t array = std::min(limits.max_array, frame_bytes);
  const size_t map = std::min(limits.max_array, frame_bytes / 2);
  return msgpack::unpack_limit(array, map, limits.max_string, frame_bytes, frame_bytes,
                               limits.max_depth);
}

// The body's request_id, when the body is a map holding an unsigned integer under that key.
std::optional<uint64_t> RecoverRequestId(const msgpack::object& body) {
  if (body.type != msgpack::type::MAP) return std::nullopt;
  for (size_t i = 0; i < body.via.map.size; ++i) {
    const msgpack::object_kv& kv = body.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "request_id") {
      if (kv.val.type == msgpack::type::POSITIVE_INTEGER) return kv.val.via.u64;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

template <typename T>
std::optional<Message> DecodeAs(FieldReader& body, void (*decode)(FieldReader&, T*)) {
  T message;
  decode(body, &message);
  if (!body.ok()) return std::nullopt;
  return Message(std::move(message));
}

std::optional<Message> DecodeBody(MessageType type, FieldReader& body) {
  switch (type) {
    case MessageType::kScoreRequest: return DecodeAs(body, DecodeScoreRequest);
    case MessageType::kScoreReply: return DecodeAs(body, DecodeScoreReply);
    case MessageType::kLabelFeedback: return DecodeAs(body, DecodeLabelFeedback);
    case MessageType::kDriftSummary: return DecodeAs(body, DecodeDriftSummary);
    case MessageType::kHealJob: return DecodeAs(body, DecodeHealJob);
    case MessageType::kHealResult: return DecodeAs(body, DecodeHealResult);
    case MessageType::kAdapterUpdate: return DecodeAs(body, DecodeAdapterUpdate);
    case MessageType::kHeartbeat: return DecodeAs(body, DecodeHeartbeat);
    case MessageType::kControlRequest: return DecodeAs(body, DecodeControlRequest);
    case MessageType::kControlReply: return DecodeAs(body, DecodeControlReply);
    case MessageType::kSnapshotRequest: return DecodeAs(body, DecodeSnapshotRequest);
    case MessageType::kSchemaRequest: return DecodeAs(body, DecodeSchemaRequest);
    case MessageType::kSchemaReply: return DecodeAs(body, DecodeSchemaReply);
    case MessageType::kLabelBatch: return DecodeAs(body, DecodeLabelBatch);
    case MessageType::kLabelAck: return DecodeAs(body, DecodeLabelAck);
  }
  return std::nullopt;
}

// Checks the envelope and decodes the body into `result`.
void DecodeEnvelope(const msgpack::object& root, const Limits& limits, Decoded* result) {
  DecodeContext ctx(limits);
  const char* kShape = "expected an array [protocol_version, type, body]";
  if (root.type != msgpack::type::ARRAY || root.via.array.size == 0) {
    ctx.Fail(ErrorCode::kMalformed, "envelope",
             std::string(kShape) + ", got " +
                 (root.type == msgpack::type::ARRAY ? "an empty array" : MsgpackTypeName(root)));
    result->error = ctx.error();
    return;
  }
  const msgpack::object_array& envelope = root.via.array;
  if (envelope.size == 3) result->request_id = RecoverRequestId(envelope.ptr[2]);
  // The version comes first so a future envelope of another shape is reported as a version.
  const msgpack::object& version = envelope.ptr[0];
  if (version.type != msgpack::type::POSITIVE_INTEGER) {
    ctx.Fail(ErrorCode::kMalformed, "envelope",
             std::string("protocol version is a ") + MsgpackTypeName(version) +
                 ", expected an unsigned integer");
  } else if (version.via.u64 < kProtocolVersion || version.via.u64 > kMaxProtocolVersion) {
    ctx.Fail(ErrorCode::kUnsupportedVersion, "envelope",
             "protocol version " + std::to_string(version.via.u64) + " not supported (this peer speaks " +
                 std::to_string(kProtocolVersion) + ".." + std::to_string(kMaxProtocolVersion) + ")");
  } else if (envelope.size != 3) {
    ctx.Fail(ErrorCode::kMalformed, "envelope",
             std::string(kShape) + ", got " + std::to_string(envelope.size) + " elements");
  } else if (envelope.ptr[1].type != msgpack::type::POSITIVE_INTEGER) {
    ctx.Fail(ErrorCode::kMalformed, "envelope",
             std::string("message type is a ") + MsgpackTypeName(envelope.ptr[1]) +
                 ", expected an unsigned integer");
  } else if (envelope.ptr[1].via.u64 == 0 || envelope.ptr[1].via.u64 > kHighestType) {
    ctx.Fail(ErrorCode::kUnknownType, "envelope",
             "message type " + std::to_string(envelope.ptr[1].via.u64) +
                 " is not known (this peer knows 1.." + std::to_string(kHighestType) + ")");
  } else if (envelope.ptr[2].type != msgpack::type::MAP) {
    const auto type = static_cast<MessageType>(envelope.ptr[1].via.u64);
    ctx.Fail(ErrorCode::kMalformed, MessageTypeName(type),
             std::string("body is a ") + MsgpackTypeName(envelope.ptr[2]) +
                 ", expected a map of fields");
  }
  if (!ctx.ok()) {
    result->error = ctx.error();
    return;
  }
  result->protocol_version = static_cast<uint32_t>(version.via.u64);
  ctx.set_protocol_version(result->protocol_version);
  const auto type = static_cast<MessageType>(envelope.ptr[1].via.u64);
  FieldReader body(&ctx, envelope.ptr[2], MessageTypeName(type));
  std::optional<Message> message = DecodeBody(type, body);
  if (!ctx.ok() || !message) {
    result->error = ctx.ok() ? DecodeError{ErrorCode::kInternal, "decoder gave no message"}
                             : ctx.error();
    return;
  }
  result->message = std::move(message);
  result->error = {};
}

}  // namespace

Decoded Decode(const void* data, size_t size, const Limits& limits) {
  Decoded result;
  if (size > limits.max_message_bytes) {
    result.error = {ErrorCode::kTooLarge, "frame: " + std::to_string(size) +
                                              " bytes, over the limit " +
                                              std::to_string(limits.max_message_bytes)};
    return result;
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (size > 0 && bytes == nullptr) {
    result.error = {ErrorCode::kMalformed, "frame: null data"};
    return result;
  }
  DecodeError scan = PrescanMsgpack(bytes, size, limits);
  if (scan.code != ErrorCode::kOk) {
    result.error = std::move(scan);
    return result;
  }
  try {
    size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(static_cast<const char*>(data), size, offset, ReferenceFrameBytes,
                        nullptr, UnpackLimitFor(limits, size));
    if (offset != size) {
      result.error = {ErrorCode::kMalformed, "frame: " + std::to_string(size - offset) +
                                                 " bytes after the end of the message"};
      return result;
    }
    DecodeEnvelope(handle.get(), limits, &result);
  } catch (const msgpack::size_overflow& e) {
    result.error = {ErrorCode::kTooLarge, std::string("frame: over a msgpack limit: ") + e.what()};
  } catch (const msgpack::unpack_error& e) {
    result.error = {ErrorCode::kMalformed, std::string("frame: not valid msgpack: ") + e.what()};
  } catch (const std::bad_alloc&) {
    result.error = {ErrorCode::kTooLarge, "frame: out of memory while decoding"};
  } catch (const std::exception& e) {
    result.error = {ErrorCode::kInternal, std::string("frame: msgpack failed: ") + e.what()};
  } catch (...) {
    result.error = {ErrorCode::kInternal, "frame: msgpack failed with an unknown exception"};
  }
  if (!result.ok()) result.message.reset();
  return result;
}

}  // namespace reflex::wire
