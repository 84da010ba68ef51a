#include "core/checksum.h"

#include <cstdio>

namespace reflex {

namespace {
constexpr uint64_t kFnv1a64Prime = 1099511628211ull;
}  // namespace

uint64_t Fnv1a64(const void* data, size_t len, uint64_t seed) {
  const unsigned char* bytes = static_cast<const unsigned char*>(data);
  uint64_t hash = seed;
  for (size_t i = 0; i < len; ++i) {
    hash ^= bytes[i];
    hash *= kFnv1a64Prime;
  }
  return hash;
}

std::string FormatChecksum(uint64_t checksum) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(checksum));
  return text;
}

}  // namespace reflex
