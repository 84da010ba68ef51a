#define BOOST_TEST_MODULE wire_allocation_bound
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "wire/codec.h"
#include "wire_samples.h"

// This executable replaces malloc/calloc/realloc (glibc lets a program interpose them and
// exports the originals as __libc_*), so it sees msgpack-c's zone allocations as well as
// operator new. While `g_tracking` is set it records the largest single request.
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
}

namespace {
bool g_tracking = false;
size_t g_largest = 0;
void Track(size_t size) {
  if (g_tracking && size > g_largest) g_largest = size;
}
}  // namespace

extern "C" void* malloc(size_t size) {
  Track(size);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) {
  Track(count * size);
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* pointer, size_t size) {
  Track(size);
  return __libc_realloc(pointer, size);
}

using namespace reflex::wire;

namespace {

// Largest single allocation made while decoding `frame`.
size_t LargestAllocationDecoding(const std::string& frame, const Limits& limits) {
  g_largest = 0;
  g_tracking = true;
  const Decoded decoded = Decode(frame, limits);
  g_tracking = false;
  return g_largest;
}

// A generous bound that still rules out allocating for elements that are not in the frame:
// msgpack-c's objects are 24 bytes (48 per map pair) and its zone may double a chunk.
size_t Bound(const std::string& frame) { return 64 * frame.size() + 64 * 1024; }

}  // namespace

BOOST_AUTO_TEST_CASE(TrackerSeesAllocations) {
  g_largest = 0;
  g_tracking = true;
  std::vector<char> big(1 << 20);
  g_tracking = false;
  BOOST_TEST(g_largest >= size_t{1} << 20);
}

BOOST_AUTO_TEST_CASE(AllocatesInProportionToTheFrameNotToDeclaredLengths) {
  Limits unlimited;
  unlimited.max_array = SIZE_MAX;
  unlimited.max_string = SIZE_MAX;
  unlimited.max_depth = 64;
  const std::vector<std::string> hostile = {
      std::string("\xdd\xff\xff\xff\xff\x00", 6),
      std::string("\xdf\x7f\xff\xff\xff\x00\x00", 7),
      std::string("\x93\x01\x01\xdd\x00\xff\xff\xff", 8),
      std::string("\x93\x01\x01\x81\xa4rows\xdd\x01\x00\x00\x00\x91\x00", 16),
      std::string("\x93\x01\x01\x81\xa4rows\xc6\x7f\xff\xff\xff", 13),
      std::string("\xdc\xff\xff\xdc\xff\xff\xdc\xff\xff\xdc\xff\xff", 12),
  };
  for (const std::string& frame : hostile) {
    for (const Limits& limits : {Limits{}, unlimited}) {
      BOOST_TEST(LargestAllocationDecoding(frame, limits) <= Bound(frame));
    }
  }
}

BOOST_AUTO_TEST_CASE(AllocatesBoundedMemoryForMutatedFrames) {
  std::mt19937_64 rng(7);
  std::vector<std::string> valid;
  for (const Message& message : reflex::wire::testing::SampleMessages()) {
    valid.push_back(Encode(message));
  }
  size_t worst_ratio_bytes = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string frame = valid[rng() % valid.size()];
    // Overwrite 1-4 bytes with 0xff-heavy values: turns headers into huge declared lengths.
    for (int k = 1 + static_cast<int>(rng() % 4); k > 0 && !frame.empty(); --k) {
      frame[rng() % frame.size()] = static_cast<char>(rng() % 3 ? 0xff : rng());
    }
    const size_t largest = LargestAllocationDecoding(frame, Limits{});
    BOOST_TEST_REQUIRE(largest <= Bound(frame));
    if (largest > worst_ratio_bytes) worst_ratio_bytes = largest;
  }
  BOOST_TEST_MESSAGE("largest single allocation seen: " << worst_ratio_bytes << " bytes");
}
