// Byte-level mutations of msgpack frames shared by the fuzz tests (the decoder's property test
// and the live scoring endpoint's). Each mutation keeps the frame's size bounded.
// Header-only test code; deterministic for a given generator state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace reflex::fuzzing {

inline size_t UniformIndex(std::mt19937_64& rng, size_t lo, size_t hi) {  // inclusive
  return std::uniform_int_distribution<size_t>(lo, hi)(rng);
}

// Overwrites the length of a str/bin/array/map header (fixed or explicit) with a hostile value.
inline void CorruptLength(std::mt19937_64& rng, std::string* s) {
  std::vector<size_t> headers;
  for (size_t i = 0; i < s->size(); ++i) {
    const unsigned char b = static_cast<unsigned char>((*s)[i]);
    if ((b >= 0x80 && b <= 0xbf) || (b >= 0xc4 && b <= 0xc6) || (b >= 0xd9 && b <= 0xdf)) headers.push_back(i);
  }
  if (headers.empty()) return;
  const size_t at = headers[UniformIndex(rng, 0, headers.size() - 1)];
  const unsigned char b = static_cast<unsigned char>((*s)[at]);
  static const uint32_t kValues[] = {0, 1, 2, 3, 5, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff};
  const uint32_t value = UniformIndex(rng, 0, 3) == 0 ? static_cast<uint32_t>(rng()) : kValues[UniformIndex(rng, 0, 11)];
  if (b <= 0x8f) { (*s)[at] = static_cast<char>(0x80 | (value & 0x0f)); return; }
  if (b <= 0x9f) { (*s)[at] = static_cast<char>(0x90 | (value & 0x0f)); return; }
  if (b <= 0xbf) { (*s)[at] = static_cast<char>(0xa0 | (value & 0x1f)); return; }
  size_t width = 4;
  if (b == 0xc4 || b == 0xd9) width = 1;
  if (b == 0xc5 || b == 0xda || b == 0xdc || b == 0xde) width = 2;
  for (size_t i = 0; i < width && at + 1 + i < s->size(); ++i) {
    (*s)[at + 1 + i] = static_cast<char>(value >> (8 * (width - 1 - i)));
  }
}

// Inserts 1-8 random bytes, deletes up to 16, or duplicates a run of up to 32.
inline void InsertDeleteOrDuplicate(std::mt19937_64& rng, std::string* s) {
  const size_t at = UniformIndex(rng, 0, s->size());
  switch (UniformIndex(rng, 0, 2)) {
    case 0: {
      std::string bytes(UniformIndex(rng, 1, 8), '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      s->insert(at, bytes);
      break;
    }
    case 1: s->erase(at, UniformIndex(rng, 1, 16)); break;
    default: s->insert(at, s->substr(UniformIndex(rng, 0, s->size()), UniformIndex(rng, 1, 32))); break;
  }
}

// Sets one byte to a msgpack type byte or boundary value.
inline void SetInterestingByte(std::mt19937_64& rng, std::string* s) {
  static const unsigned char kBytes[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
                                         0xc4, 0xc6, 0xca, 0xcb, 0xcf, 0xd3, 0xd9, 0xdb, 0xdd, 0xdf, 0xe0, 0xff};
  if (s->empty()) return;
  (*s)[UniformIndex(rng, 0, s->size() - 1)] = static_cast<char>(kBytes[UniformIndex(rng, 0, 23)]);
}

}  // namespace reflex::fuzzing
