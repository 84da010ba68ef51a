#include "wire/field_reader.h"

#include <algorithm>
#include <limits>

namespace reflex::wire {
namespace {

std::string Indexed(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

}  // namespace

FieldReader::FieldReader(DecodeContext* ctx, const msgpack::object& map, std::string path)
    : ctx_(ctx), path_(std::move(path)) {
  if (!ctx_->ok()) return;
  if (map.type != msgpack::type::MAP) {
    ctx_->Fail(ErrorCode::kWrongType, path_,
               std::string("expected a map of fields, got ") + MsgpackTypeName(map));
    return;
  }
  fields_.reserve(map.via.map.size);
  for (size_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) {
      ctx_->Fail(ErrorCode::kWrongType, path_,
                 "key #" + std::to_string(i) + " is a " + MsgpackTypeName(kv.key) +
                     ", expected a str field name");
      fields_.clear();
      return;
    }
    fields_.emplace_back(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), &kv.val);
  }
  std::stable_sort(fields_.begin(), fields_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < fields_.size(); ++i) {
    if (fields_[i - 1].first == fields_[i].first) {
      ctx_->Fail(ErrorCode::kMalformed, path_,
                 "duplicate field " + QuoteForMessage(fields_[i].first));
      fields_.clear();
      return;
    }
  }
}

const msgpack::object* FieldReader::Find(const char* name) const {
  if (!ctx_->ok()) return nullptr;
  const std::string_view key(name);
  auto it = std::lower_bound(fields_.begin(), fields_.end(), key,
                             [](const auto& field, std::string_view k) { return field.first < k; });
  if (it == fields_.end() || it->first != key) return nullptr;
  if (it->second->type == msgpack::type::NIL) return nullptr;
  return it->second;
}

const msgpack::object* FieldReader::Require(const char* name) {
  if (!ctx_->ok()) return nullptr;
  const msgpack::object* value = Find(name);
  if (value == nullptr) {
    ctx_->Fail(ErrorCode::kMissingField, path_, std::string("missing field '") + name + "'");
  }
  return value;
}

void FieldReader::FailMissing(const char* name, const std::string& why) {
  ctx_->Fail(ErrorCode::kMissingField, path_,
             std::string("missing field '") + name + "' (" + why + ")");
}

void FieldReader::UInt64(const char* name, uint64_t* out) {
  if (const msgpack::object* v = Require(name)) {
    ReadUnsigned(*ctx_, *v, PathOf(name), std::numeric_limits<uint64_t>::max(), "uint64", out);
  }
}

void FieldReader::UInt32(const char* name, uint32_t* out) {
  uint64_t value = 0;
  const msgpack::object* v = Require(name);
  if (v && ReadUnsigned(*ctx_, *v, PathOf(name), std::numeric_limits<uint32_t>::max(), "uint32",
                        &value)) {
    *out = static_cast<uint32_t>(value);
  }
}

void FieldReader::UInt16(const char* name, uint16_t* out) {
  uint64_t value = 0;
  const msgpack::object* v = Require(name);
  if (v && ReadUnsigned(*ctx_, *v, PathOf(name), std::numeric_limits<uint16_t>::max(), "uint16",
                        &value)) {
    *out = static_cast<uint16_t>(value);
  }
}

void FieldReader::UInt8(const char* name, uint8_t* out) {
  uint64_t value = 0;
  const msgpack::object* v = Require(name);
  if (v && ReadUnsigned(*ctx_, *v, PathOf(name), std::numeric_limits<uint8_t>::max(), "uint8",
                        &value)) {
    *out = static_cast<uint8_t>(value);
  }
}

void FieldReader::Int64(const char* name, int64_t* out) {
  if (const msgpack::object* v = Require(name)) ReadInt64(*ctx_, *v, PathOf(name), out);
}

void FieldReader::Bool(const char* name, bool* out) {
  if (const msgpack::object* v = Require(name)) ReadBool(*ctx_, *v, PathOf(name), out);
}

void FieldReader::String(const char* name, std::string* out) {
  if (const msgpack::object* v = Require(name)) ReadString(*ctx_, *v, PathOf(name), out);
}

void FieldReader::OptionalInt64(const char* name, std::optional<int64_t>* out) {
  const msgpack::object* v = Find(name);
  int64_t value = 0;
  if (v && ReadInt64(*ctx_, *v, PathOf(name), &value)) *out = value;
}

const msgpack::object_array* FieldReader::RequireArray(const char* name) {
  const msgpack::object* v = Require(name);
  if (v == nullptr) return nullptr;
  if (v->type != msgpack::type::ARRAY) {
    ctx_->Fail(ErrorCode::kWrongType, PathOf(name),
               std::string("expected an array, got ") + MsgpackTypeName(*v));
    return nullptr;
  }
  return &v->via.array;
}

void FieldReader::StringList(const char* name, std::vector<std::string>* out) {
  const msgpack::object_array* array = RequireArray(name);
  if (array == nullptr) return;
  std::vector<std::string> values(array->size);
  for (size_t i = 0; i < array->size; ++i) {
    if (!ReadString(*ctx_, array->ptr[i], Indexed(PathOf(name), i), &values[i])) return;
  }
  *out = std::move(values);
}

void FieldReader::UInt64List(const char* name, std::vector<uint64_t>* out) {
  const msgpack::object_array* array = RequireArray(name);
  if (array == nullptr) return;
  std::vector<uint64_t> values(array->size);
  for (size_t i = 0; i < array->size; ++i) {
    const msgpack::object& element = array->ptr[i];
    if (element.type == msgpack::type::POSITIVE_INTEGER) {
      values[i] = element.via.u64;
    } else if (!ReadUnsigned(*ctx_, element, Indexed(PathOf(name), i),
                             std::numeric_limits<uint64_t>::max(), "uint64", &values[i])) {
      return;
    }
  }
  *out = std::move(values);
}

void FieldReader::Int8List(const char* name, int8_t min, int8_t max, std::vector<int8_t>* out) {
  const msgpack::object_array* array = RequireArray(name);
  if (array == nullptr) return;
  std::vector<int8_t> values(array->size);
  for (size_t i = 0; i < array->size; ++i) {
    const msgpack::object& element = array->ptr[i];
    int64_t value = 0;
    if (element.type == msgpack::type::NEGATIVE_INTEGER) {
      value = element.via.i64;
    } else if (element.type == msgpack::type::POSITIVE_INTEGER && element.via.u64 <= 127) {
      value = static_cast<int64_t>(element.via.u64);
    } else if (!ReadInt64(*ctx_, element, Indexed(PathOf(name), i), &value)) {
      return;
    }
    if (value < min || value > max) {
      ctx_->Fail(ErrorCode::kInvalidArgument, Indexed(PathOf(name), i),
                 std::to_string(value) + " is outside [" + std::to_string(min) + ", " +
                     std::to_string(max) + "]");
      return;
    }
    values[i] = static_cast<int8_t>(value);
  }
  *out = std::move(values);
}

bool FieldReader::ForEachStringKey(
    const char* name, const msgpack::object& map,
    std::vector<std::pair<std::string, const msgpack::object*>>* entries) {
  if (map.type != msgpack::type::MAP) {
    return ctx_->Fail(ErrorCode::kWrongType, PathOf(name),
                      std::string("expected a map, got ") + MsgpackTypeName(map));
  }
  entries->reserve(map.via.map.size);
  for (size_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    std::string key;
    if (!ReadString(*ctx_, kv.key, PathOf(name) + " key #" + std::to_string(i), &key)) {
      return false;
    }
    entries->emplace_back(std::move(key), &kv.val);
  }
  return true;
}

void FieldReader::StringMap(const char* name, std::map<std::string, std::string>* out) {
  const msgpack::object* v = Require(name);
  std::vector<std::pair<std::string, const msgpack::object*>> entries;
  if (v == nullptr || !ForEachStringKey(name, *v, &entries)) return;
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : entries) {
    const std::string where = PathOf(name) + "[" + QuoteForMessage(key) + "]";
    std::string text;
    if (!ReadString(*ctx_, *value, where, &text)) return;
    if (!values.emplace(key, std::move(text)).second) {
      ctx_->Fail(ErrorCode::kMalformed, PathOf(name), "duplicate key " + QuoteForMessage(key));
      return;
    }
  }
  *out = std::move(values);
}

void FieldReader::NumberMap(const char* name, std::map<std::string, double>* out) {
  const msgpack::object* v = Require(name);
  std::vector<std::pair<std::string, const msgpack::object*>> entries;
  if (v == nullptr || !ForEachStringKey(name, *v, &entries)) return;
  std::map<std::string, double> values;
  for (const auto& [key, value] : entries) {
    const std::string where = PathOf(name) + "[" + QuoteForMessage(key) + "]";
    double number = 0;
    if (!ReadNumber(*ctx_, *value, where, &number)) return;
    if (!values.emplace(key, number).second) {
      ctx_->Fail(ErrorCode::kMalformed, PathOf(name), "duplicate key " + QuoteForMessage(key));
      return;
    }
  }
  *out = std::move(values);
}

void FieldReader::Float32Vector(const char* name, std::vector<float>* out) {
  if (const msgpack::object* v = Require(name)) ReadFloat32Vector(*ctx_, *v, PathOf(name), out);
}

}  // namespace reflex::wire
