// Reads the named fields of one msgpack map: a message body or a nested record (an adapter).
//
// The constructor checks that the value is a map whose keys are all distinct strings. Field
// readers look a name up, treat an absent field and a nil value alike (missing), check the
// msgpack type and range, and store the value; on any problem they record the first error in the
// shared DecodeContext ("heartbeat: missing field 'epoch'", "heal_job.cols: expected an unsigned
// integer, got str") and leave the output unchanged. Once the context holds an error every call
// is a no-op, so a decoder reads all its fields and checks ok() once. Unknown fields are ignored
// (a newer peer may add fields). Never throws.
//
// Ownership: borrows the DecodeContext and the msgpack map, which must outlive the reader.
// Thread-safety: one reader per thread. Internal to libs/wire.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/value_reader.h"

namespace reflex::wire {

class FieldReader {
 public:
  // `path` names the map in messages: "score_request", "adapter_update.adapter".
  FieldReader(DecodeContext* ctx, const msgpack::object& map, std::string path);

  bool ok() const { return ctx_->ok(); }
  DecodeContext& context() { return *ctx_; }
  const Limits& limits() const { return ctx_->limits(); }
  const std::string& path() const { return path_; }
  // "<path>.<field>".
  std::string PathOf(const char* field) const { return path_ + "." + field; }

  // The field's value, or nullptr when it is absent or nil (or the context already failed).
  const msgpack::object* Find(const char* name) const;
  // Like Find, but records kMissingField when the field is absent or nil.
  const msgpack::object* Require(const char* name);
  // Records kMissingField for `name` with an explanation (for conditionally required fields).
  void FailMissing(const char* name, const std::string& why);

  // Required scalar fields.
  void UInt64(const char* name, uint64_t* out);
  void UInt32(const char* name, uint32_t* out);
  void UInt16(const char* name, uint16_t* out);
  void UInt8(const char* name, uint8_t* out);
  void Int64(const char* name, int64_t* out);
  void Bool(const char* name, bool* out);
  void String(const char* name, std::string* out);
  // Optional: absent or nil leaves `out` empty.
  void OptionalInt64(const char* name, std::optional<int64_t>* out);

  // Required collections.
  void StringList(const char* name, std::vector<std::string>* out);
  void UInt64List(const char* name, std::vector<uint64_t>* out);
  // An array of integers, each within [min, max].
  void Int8List(const char* name, int8_t min, int8_t max, std::vector<int8_t>* out);
  void StringMap(const char* name, std::map<std::string, std::string>* out);
  // Values may be any integer or float, including NaN and infinities.
  void NumberMap(const char* name, std::map<std::string, double>* out);
  // A float32 vector (ReadFloat32Vector); finiteness is the caller's to check.
  void Float32Vector(const char* name, std::vector<float>* out);

 private:
  // A map value of `name`'s field, checked to be an array of at most max_array elements.
  const msgpack::object_array* RequireArray(const char* name);
  // The keys and values of a map field, each key checked to be a str.
  bool ForEachStringKey(const char* name, const msgpack::object& map,
                        std::vector<std::pair<std::string, const msgpack::object*>>* entries);

  DecodeContext* ctx_;
  std::string path_;
  std::vector<std::pair<std::string_view, const msgpack::object*>> fields_;  // sorted by name
};

}  // namespace reflex::wire
