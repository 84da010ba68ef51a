// Checksums for bytes Reflex stores or sends: 64-bit FNV-1a.
//
// FNV-1a is not cryptographic; it detects torn writes, bit flips and truncation in registry files
// and wire messages. The hash is a pure function of its input (no state, no ownership, safe from
// any thread). `seed` is the running hash, so a hash over several pieces can be chained:
//   uint64_t h = Fnv1a64(a, na);  h = Fnv1a64(b, nb, h);   // == Fnv1a64 over a then b
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace reflex {

// The FNV-1a 64-bit offset basis: the hash of zero bytes.
constexpr uint64_t kFnv1a64OffsetBasis = 14695981039346656037ull;

// Hashes `len` bytes at `data`, continuing from `seed` (the offset basis for a fresh hash).
uint64_t Fnv1a64(const void* data, size_t len, uint64_t seed = kFnv1a64OffsetBasis);

// "0x" followed by 16 lowercase hex digits, for messages that show checksums.
std::string FormatChecksum(uint64_t checksum);

}  // namespace reflex
