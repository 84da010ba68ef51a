// libFuzzer harness for reflex::wire::Decode (libs/wire/codec.h), built by tools/fuzz/build.sh
// with clang++ -fsanitize=fuzzer,address,undefined; not part of the CMake build.
//
// Each input is decoded under three limit sets (defaults, tight limits with an expected width,
// and non-finite values allowed). The harness aborts, which libFuzzer reports as a crash with
// the input saved, when:
//   - a refusal has code kOk or an empty message, or a success carries an error;
//   - a decoded message does not re-encode to bytes that decode again and re-encode identically.
// AddressSanitizer and UBSan catch memory errors and undefined behaviour; build.sh runs with
// -malloc_limit_mb so that a large single allocation fails too.
//
// With the environment variable WIRE_FUZZ_WRITE_SEEDS=<dir>, LLVMFuzzerInitialize first writes
// one valid encoding of every sample message (tests/wire/wire_samples.h) into <dir> as seeds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "wire/codec.h"
#include "wire_samples.h"

namespace {

using reflex::wire::Decode;
using reflex::wire::Decoded;
using reflex::wire::Encode;
using reflex::wire::ErrorCode;
using reflex::wire::Limits;

[[noreturn]] void Violation(const char* what, const Decoded& decoded) {
  std::fprintf(stderr, "wire fuzz invariant broken: %s (code %d, message '%s')\n", what,
               static_cast<int>(decoded.error.code), decoded.error.message.c_str());
  std::abort();
}

Limits TightLimits() {
  Limits limits;
  limits.max_message_bytes = 2048;
  limits.max_rows = 3;
  limits.max_cols = 4;
  limits.max_array = 32;
  limits.max_string = 24;
  limits.max_depth = 4;
  limits.expected_cols = 3;
  return limits;
}

Limits AllowNonFinite() {
  Limits limits;
  limits.allow_non_finite = true;
  return limits;
}

void CheckOne(const uint8_t* data, size_t size, const Limits& limits) {
  static const Limits kAllow = AllowNonFinite();
  const Decoded decoded = Decode(data, size, limits);
  if (!decoded.ok()) {
    if (decoded.error.code == ErrorCode::kOk) Violation("refusal with code kOk", decoded);
    if (decoded.error.message.empty()) Violation("refusal without a message", decoded);
    return;
  }
  if (decoded.error.code != ErrorCode::kOk || !decoded.error.message.empty()) {
    Violation("success carrying an error", decoded);
  }
  const std::string again = Encode(*decoded.message);
  const Decoded second = Decode(again, kAllow);
  if (!second.ok()) Violation("re-encoded message refused", second);
  if (Encode(*second.message) != again) Violation("re-encoding is not stable", second);
}

void WriteSeeds(const char* dir) {
  int index = 0;
  for (const auto& message : reflex::wire::testing::SampleMessages()) {
    const std::string frame = Encode(message);
    const std::string path = std::string(dir) + "/seed_" + std::to_string(index++);
    std::ofstream(path, std::ios::binary)
        .write(frame.data(), static_cast<std::streamsize>(frame.size()));
  }
  std::fprintf(stderr, "wrote %d seeds to %s\n", index, dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("WIRE_FUZZ_WRITE_SEEDS")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Limits kDefault;
  static const Limits kTight = TightLimits();
  static const Limits kAllow = AllowNonFinite();
  CheckOne(data, size, kDefault);
  CheckOne(data, size, kTight);
  CheckOne(data, size, kAllow);
  return 0;
}
