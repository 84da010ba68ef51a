#include "wire/field_writer.h"

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace reflex::wire {

void PackString(Packer& packer, const std::string& value) {
  packer.pack_str(static_cast<uint32_t>(value.size()));
  packer.pack_str_body(value.data(), static_cast<uint32_t>(value.size()));
}

void PackFloat64(StringSink& sink, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  char bytes[9];
  bytes[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  sink.write(bytes, sizeof(bytes));
}

void PackFloat32Bin(Packer& packer, StringSink& sink, const std::vector<float>& values) {
  const size_t bytes = values.size() * 4;
  packer.pack_bin(static_cast<uint32_t>(bytes));
  std::string* out = sink.str();
  const size_t start = out->size();
  out->resize(start + bytes);
  char* dest = out->data() + start;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (bytes > 0) std::memcpy(dest, values.data(), bytes);
#else
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], sizeof(bits));
    for (int b = 0; b < 4; ++b) dest[4 * i + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
#endif
}

MapWriter::MapWriter(Packer* packer, StringSink* sink, uint32_t field_count)
    : packer_(packer), sink_(sink), expected_(field_count) {
  packer_->pack_map(field_count);
}

MapWriter::~MapWriter() {
  if (written_ != expected_) {
    std::cerr << "wire::MapWriter: declared " << expected_ << " fields but wrote " << written_
              << "\n";
    std::abort();
  }
}

Packer& MapWriter::Key(const char* name) {
  ++written_;
  const size_t size = std::strlen(name);
  packer_->pack_str(static_cast<uint32_t>(size));
  packer_->pack_str_body(name, static_cast<uint32_t>(size));
  return *packer_;
}

void MapWriter::UInt(const char* name, uint64_t value) { Key(name).pack_uint64(value); }

void MapWriter::Int(const char* name, int64_t value) { Key(name).pack_int64(value); }

void MapWriter::Bool(const char* name, bool value) {
  if (value) {
    Key(name).pack_true();
  } else {
    Key(name).pack_false();
  }
}

void MapWriter::String(const char* name, const std::string& value) {
  PackString(Key(name), value);
}

void MapWriter::Float32Vector(const char* name, const std::vector<float>& values) {
  PackFloat32Bin(Key(name), *sink_, values);
}

void MapWriter::Int8List(const char* name, const std::vector<int8_t>& values) {
  Packer& packer = Key(name);
  packer.pack_array(static_cast<uint32_t>(values.size()));
  for (int8_t value : values) packer.pack_int8(value);
}

void MapWriter::UInt64List(const char* name, const std::vector<uint64_t>& values) {
  Packer& packer = Key(name);
  packer.pack_array(static_cast<uint32_t>(values.size()));
  for (uint64_t value : values) packer.pack_uint64(value);
}

void MapWriter::StringList(const char* name, const std::vector<std::string>& values) {
  Packer& packer = Key(name);
  packer.pack_array(static_cast<uint32_t>(values.size()));
  for (const std::string& value : values) PackString(packer, value);
}

void MapWriter::StringMap(const char* name, const std::map<std::string, std::string>& values) {
  Packer& packer = Key(name);
  packer.pack_map(static_cast<uint32_t>(values.size()));
  for (const auto& [key, value] : values) {
    PackString(packer, key);
    PackString(packer, value);
  }
}

void MapWriter::NumberMap(const char* name, const std::map<std::string, double>& values) {
  Packer& packer = Key(name);
  packer.pack_map(static_cast<uint32_t>(values.size()));
  for (const auto& [key, value] : values) {
    PackString(packer, key);
    PackFloat64(*sink_, value);
  }
}

}  // namespace reflex::wire
