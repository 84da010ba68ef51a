// FrameEdit: builds frames that differ from a valid encoding in one controlled way, for tests of
// the decoder's refusals. It encodes a message, unpacks it into editable envelope numbers and
// body fields, lets a test remove, add or replace fields (also inside nested maps such as
// "adapter"), and packs it again with msgpack-c. Also has helpers that build raw frames by hand.
// Header-only test support; each FrameEdit owns a msgpack zone for the values it holds.
#pragma once

#include <msgpack.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wire/codec.h"

namespace reflex::wire::testing {

class FrameEdit {
 public:
  explicit FrameEdit(const Message& message) : zone_(std::make_shared<msgpack::zone>()) {
    const std::string frame = Encode(message);
    msgpack::object root = msgpack::unpack(*zone_, frame.data(), frame.size());  // copies
    version_ = msgpack::object(root.via.array.ptr[0]);
    type_ = msgpack::object(root.via.array.ptr[1]);
    LoadFields(root.via.array.ptr[2]);
  }

  // Field names of the body, in encoding order.
  std::vector<std::string> FieldNames() const {
    std::vector<std::string> names;
    for (const auto& field : fields_) names.push_back(field.first);
    return names;
  }
  const msgpack::object* Get(const std::string& name) const {
    for (const auto& field : fields_) {
      if (field.first == name) return &field.second;
    }
    return nullptr;
  }

  FrameEdit& Remove(const std::string& name) {
    for (auto it = fields_.begin(); it != fields_.end(); ++it) {
      if (it->first == name) {
        fields_.erase(it);
        break;
      }
    }
    return *this;
  }
  FrameEdit& SetObject(const std::string& name, const msgpack::object& value) {
    for (auto& field : fields_) {
      if (field.first == name) {
        field.second = value;
        return *this;
      }
    }
    fields_.emplace_back(name, value);
    return *this;
  }
  // Any value msgpack-c can convert (integers, doubles, strings, vectors, nested vectors).
  template <typename T>
  FrameEdit& Set(const std::string& name, const T& value) {
    return SetObject(name, msgpack::object(value, *zone_));
  }
  FrameEdit& SetNil(const std::string& name) { return SetObject(name, msgpack::object()); }
  // A bin of little-endian float32 (the host is little-endian in these tests).
  FrameEdit& SetFloatBin(const std::string& name, const std::vector<float>& values) {
    return SetBytes(name, std::string(reinterpret_cast<const char*>(values.data()),
                                      values.size() * sizeof(float)));
  }
  FrameEdit& SetBytes(const std::string& name, const std::string& bytes) {
    char* copy = static_cast<char*>(zone_->allocate_align(bytes.size() + 1));
    std::memcpy(copy, bytes.data(), bytes.size());
    msgpack::object bin;
    bin.type = msgpack::type::BIN;
    bin.via.bin.ptr = copy;
    bin.via.bin.size = static_cast<uint32_t>(bytes.size());
    return SetObject(name, bin);
  }
  // Edits a nested map field (e.g. "adapter", "base", "candidate") in place.
  FrameEdit& Nested(const std::string& name, const std::function<void(FrameEdit&)>& edit) {
    const msgpack::object* value = Get(name);
    if (value == nullptr) return *this;
    FrameEdit child(zone_);
    child.LoadFields(*value);
    edit(child);
    return SetObject(name, child.BodyObject());
  }
  template <typename T>
  FrameEdit& Version(const T& version) {
    version_ = msgpack::object(version, *zone_);
    return *this;
  }
  template <typename T>
  FrameEdit& Type(const T& type) {
    type_ = msgpack::object(type, *zone_);
    return *this;
  }

  msgpack::zone& zone() { return *zone_; }

  std::string Frame() const {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> packer(buffer);
    packer.pack_array(3);
    packer.pack(version_);
    packer.pack(type_);
    packer.pack(BodyObject());
    return std::string(buffer.data(), buffer.size());
  }

 private:
  explicit FrameEdit(std::shared_ptr<msgpack::zone> zone) : zone_(std::move(zone)) {}

  void LoadFields(const msgpack::object& map) {
    fields_.clear();
    for (size_t i = 0; i < map.via.map.size; ++i) {
      const msgpack::object_kv& kv = map.via.map.ptr[i];
      fields_.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size), kv.val);
    }
  }

  msgpack::object BodyObject() const {
    msgpack::object map;
    map.type = msgpack::type::MAP;
    map.via.map.size = static_cast<uint32_t>(fields_.size());
    map.via.map.ptr = static_cast<msgpack::object_kv*>(
        zone_->allocate_align(sizeof(msgpack::object_kv) * (fields_.size() + 1)));
    for (size_t i = 0; i < fields_.size(); ++i) {
      map.via.map.ptr[i].key = msgpack::object(fields_[i].first, *zone_);
      map.via.map.ptr[i].val = fields_[i].second;
    }
    return map;
  }

  std::shared_ptr<msgpack::zone> zone_;
  msgpack::object version_;
  msgpack::object type_;
  std::vector<std::pair<std::string, msgpack::object>> fields_;
};

// Packs any msgpack-c-convertible value (e.g. a std::tuple standing in for an envelope).
template <typename T>
std::string PackValue(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

// Bytes from a hex string ("93 01 01 80"; spaces ignored).
inline std::string FromHex(const std::string& hex) {
  std::string bytes;
  int high = -1;
  for (char c : hex) {
    int nibble = -1;
    if (c >= '0' && c <= '9') nibble = c - '0';
    if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    if (nibble < 0) continue;
    if (high < 0) {
      high = nibble;
    } else {
      bytes.push_back(static_cast<char>(high * 16 + nibble));
      high = -1;
    }
  }
  return bytes;
}

inline std::string ToHex(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    if (!hex.empty()) hex += ' ';
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace reflex::wire::testing
