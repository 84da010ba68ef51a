// Wire payloads inside actor messages (interfaces.h): encode a wire message to the bytes an
// actor message carries, and decode them back with the codec's limits, so a payload from
// another process is checked like any network input.
// Plain functions; thread-safe.
#pragma once

#include <string>
#include <variant>

#include "core/status.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace reflex::actors {

template <typename T>
std::string EncodePayload(const T& message) {
  return wire::Encode(wire::Message(message));
}

// InvalidArgument naming `what`, the decoder's message, or the unexpected message type.
template <typename T>
Result<T> DecodePayload(const std::string& bytes, const char* what, const wire::Limits& limits = {}) {
  wire::Decoded decoded = wire::Decode(bytes, limits);
  if (!decoded.ok()) {
    return Status::InvalidArgument(std::string(what) + ": undecodable (" + wire::ErrorCodeName(decoded.error.code) +
                                   "): " + decoded.error.message);
  }
  if (T* value = std::get_if<T>(&*decoded.message)) return std::move(*value);
  return Status::InvalidArgument(std::string(what) + ": expected another message type, got " +
                                 wire::MessageTypeName(wire::TypeOf(*decoded.message)));
}

}  // namespace reflex::actors
