// Little-endian encoding of fixed-width numbers and length-prefixed strings, for the bytes Reflex
// stores on disk (registry files) and hashes (adapter checksums).
//
// Writers append to a caller-owned std::string. ByteReader reads from a caller-owned buffer that
// must outlive it; each Read* returns false (and leaves the reader failed) instead of reading past
// the end, so a decoder checks once at the end or after each field. Encoding is independent of
// the host's byte order. Plain functions and a small value type; no shared state, not
// synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace reflex {

void AppendU32(std::string* out, uint32_t value);
void AppendU64(std::string* out, uint64_t value);
void AppendI64(std::string* out, int64_t value);
void AppendF32(std::string* out, float value);   // IEEE-754 bits, little-endian
void AppendF64(std::string* out, double value);  // IEEE-754 bits, little-endian
// u32 byte length, then the bytes.
void AppendLengthPrefixed(std::string* out, const std::string& bytes);

// Sequential little-endian reader over [data, data + size).
class ByteReader {
 public:
  ByteReader(const void* data, size_t size)
      : data_(static_cast<const unsigned char*>(data)), size_(size) {}

  bool ReadU32(uint32_t* value);
  bool ReadU64(uint64_t* value);
  bool ReadI64(int64_t* value);
  bool ReadF32(float* value);
  bool ReadF64(double* value);
  bool ReadLengthPrefixed(std::string* bytes);
  // Reads `count` consecutive f32 values; fails without reading when fewer bytes remain.
  bool ReadF32Array(size_t count, float* values);

  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool failed() const { return failed_; }

 private:
  bool Take(size_t n, const unsigned char** bytes);

  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace reflex
