#include "core/byte_coding.h"

#include <cstring>

namespace reflex {

namespace {

template <typename T>
void AppendLittleEndian(std::string* out, T value) {
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
  }
  out->append(bytes, sizeof(T));
}

template <typename T>
T DecodeLittleEndian(const unsigned char* bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(bytes[i]) << (8 * i);
  return value;
}

}  // namespace

void AppendU32(std::string* out, uint32_t value) { AppendLittleEndian(out, value); }
void AppendU64(std::string* out, uint64_t value) { AppendLittleEndian(out, value); }
void AppendI64(std::string* out, int64_t value) {
  AppendLittleEndian(out, static_cast<uint64_t>(value));
}

void AppendF32(std::string* out, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  AppendU32(out, bits);
}

void AppendF64(std::string* out, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  AppendU64(out, bits);
}

void AppendLengthPrefixed(std::string* out, const std::string& bytes) {
  AppendU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

bool ByteReader::Take(size_t n, const unsigned char** bytes) {
  if (failed_ || n > size_ - pos_) {
    failed_ = true;
    return false;
  }
  *bytes = data_ + pos_;
  pos_ += n;
  return true;
}

bool ByteReader::ReadU32(uint32_t* value) {
  const unsigned char* bytes;
  if (!Take(4, &bytes)) return false;
  *value = DecodeLittleEndian<uint32_t>(bytes);
  return true;
}

bool ByteReader::ReadU64(uint64_t* value) {
  const unsigned char* bytes;
  if (!Take(8, &bytes)) return false;
  *value = DecodeLittleEndian<uint64_t>(bytes);
  return true;
}

bool ByteReader::ReadI64(int64_t* value) {
  uint64_t bits;
  if (!ReadU64(&bits)) return false;
  *value = static_cast<int64_t>(bits);
  return true;
}

bool ByteReader::ReadF32(float* value) {
  uint32_t bits;
  if (!ReadU32(&bits)) return false;
  std::memcpy(value, &bits, sizeof(bits));
  return true;
}

bool ByteReader::ReadF64(double* value) {
  uint64_t bits;
  if (!ReadU64(&bits)) return false;
  std::memcpy(value, &bits, sizeof(bits));
  return true;
}

bool ByteReader::ReadLengthPrefixed(std::string* bytes) {
  uint32_t length;
  if (!ReadU32(&length)) return false;
  const unsigned char* start;
  if (!Take(length, &start)) return false;
  bytes->assign(reinterpret_cast<const char*>(start), length);
  return true;
}

bool ByteReader::ReadF32Array(size_t count, float* values) {
  if (failed_ || count > remaining() / 4) {
    failed_ = true;
    return false;
  }
  for (size_t i = 0; i < count; ++i) ReadF32(&values[i]);
  return true;
}

}  // namespace reflex
