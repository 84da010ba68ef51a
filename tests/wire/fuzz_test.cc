#define BOOST_TEST_MODULE wire_fuzz
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "frame_edit.h"
#include "wire/codec.h"
#include "wire_expect.h"
#include "wire_samples.h"
#include "frame_mutations.h"

using namespace reflex;
using namespace reflex::wire;
using namespace reflex::wire::testing;

namespace {

using Rng = std::mt19937_64;
using ::reflex::fuzzing::CorruptLength;
using ::reflex::fuzzing::InsertDeleteOrDuplicate;
using ::reflex::fuzzing::SetInterestingByte;

size_t Uniform(Rng& rng, size_t lo, size_t hi) {  // inclusive
  return std::uniform_int_distribution<size_t>(lo, hi)(rng);
}

// Valid encodings of every message type: the samples plus randomly sized variants.
std::vector<std::string> ValidFrames(Rng& rng) {
  std::vector<std::string> frames;
  for (const Message& message : SampleMessages()) frames.push_back(Encode(message));
  for (int i = 0; i < 40; ++i) {
    ScoreRequest request;
    request.request_id = rng();
    request.cols = static_cast<uint32_t>(Uniform(rng, 1, 12));
    request.rows.resize(request.cols * Uniform(rng, 0, 6));
    for (float& value : request.rows) {
      value = static_cast<float>(Uniform(rng, 0, 2000)) / 7.0f - 100;
    }
    if (i % 2) request.deadline_unix_us = static_cast<int64_t>(rng());
    frames.push_back(Encode(request));
    AdapterUpdate update;
    update.sequence = i;
    update.adapter = SampleAdapter(static_cast<uint32_t>(Uniform(rng, 1, 5)),
                                   static_cast<uint32_t>(Uniform(rng, 1, 4)), 1 + i);
    frames.push_back(Encode(update));
  }
  // What a Python client sends: 2-D rows of float64 without cols.
  FrameEdit python(SampleScoreRequest());
  python.Remove("cols").Set("rows", std::vector<std::vector<double>>{{0.5, -1.5, 2.0}, {1, 2, 3}});
  frames.push_back(python.Frame());
  return frames;
}

// ---- mutators: each returns a new input derived from `frame` ----

std::string RandomBytes(Rng& rng) {
  std::string bytes(Uniform(rng, 0, 96), '\0');
  for (char& b : bytes) b = static_cast<char>(rng());
  if (Uniform(rng, 0, 2) == 0) {  // an envelope-looking prefix gets past the first checks
    bytes.insert(0, std::string{'\x93', '\x01', static_cast<char>(Uniform(rng, 0, 12))});
  }
  return bytes;
}

void FlipBits(Rng& rng, std::string* s) {
  if (s->empty()) return;
  for (size_t n = Uniform(rng, 1, 8); n > 0; --n) {
    (*s)[Uniform(rng, 0, s->size() - 1)] ^= static_cast<char>(1u << Uniform(rng, 0, 7));
  }
}

void Truncate(Rng& rng, std::string* s) { s->resize(Uniform(rng, 0, s->size())); }

void Splice(Rng& rng, std::string* s, const std::string& other) {
  const size_t cut = Uniform(rng, 0, s->size());
  const size_t from = Uniform(rng, 0, other.size());
  *s = s->substr(0, cut) + other.substr(from);
}




std::string Mutate(Rng& rng, const std::vector<std::string>& valid) {
  const size_t kind = Uniform(rng, 0, 8);
  if (kind == 0) return RandomBytes(rng);
  std::string s = valid[Uniform(rng, 0, valid.size() - 1)];
  const size_t steps = kind == 8 ? Uniform(rng, 2, 4) : 1;
  for (size_t step = 0; step < steps; ++step) {
    switch (kind == 8 ? Uniform(rng, 1, 7) : kind) {
      case 1: FlipBits(rng, &s); break;
      case 2: Truncate(rng, &s); break;
      case 3: Splice(rng, &s, valid[Uniform(rng, 0, valid.size() - 1)]); break;
      case 4: case 5: CorruptLength(rng, &s); break;
      case 6: InsertDeleteOrDuplicate(rng, &s); break;
      default: SetInterestingByte(rng, &s); break;
    }
  }
  return s;
}

Limits TightLimits() {
  Limits limits;
  limits.max_message_bytes = 600;
  limits.max_rows = 3;
  limits.max_cols = 4;
  limits.max_array = 24;
  limits.max_string = 16;
  limits.max_depth = 4;
  limits.expected_cols = 3;
  return limits;
}

}  // namespace

BOOST_AUTO_TEST_CASE(SurvivesHundredThousandRandomAndMutatedFrames) {
  Rng rng(20240611);
  const std::vector<std::string> valid = ValidFrames(rng);
  Limits allow_non_finite;
  allow_non_finite.allow_non_finite = true;
  const Limits limit_sets[] = {Limits{}, TightLimits(), allow_non_finite};

  constexpr size_t kMutated = 100000;
  std::map<ErrorCode, size_t> outcomes;  // kOk counts inputs that decoded
  size_t valid_checked = 0;
  size_t violations = 0;
  size_t unpack_disagreements = 0;  // pre-scan passed but msgpack-c refused the bytes
  std::string first_violation;
  auto violation = [&](const std::string& what, const std::string& input) {
    if (violations++ == 0) first_violation = what + " on input " + ToHex(input.substr(0, 64));
  };

  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < kMutated; ++i) {
    if (i % 16 == 0) {  // a valid frame interleaved must still decode exactly
      const std::string& frame = valid[(i / 16) % valid.size()];
      const Decoded decoded = Decode(frame);
      ++valid_checked;
      if (!decoded.ok()) {
        violation("valid frame refused: " + decoded.error.message, frame);
      } else if (frame != valid.back() && Encode(*decoded.message) != frame) {
        violation("valid frame did not re-encode to the same bytes", frame);
      }
    }
    const std::string input = Mutate(rng, valid);
    const Limits& limits = limit_sets[i % 3];
    const Decoded decoded = Decode(input, limits);
    if (decoded.ok()) {
      ++outcomes[ErrorCode::kOk];
      if (decoded.error.code != ErrorCode::kOk || !decoded.error.message.empty()) {
        violation("decoded message carries an error", input);
      }
      // What decodes must encode, and decode again to the same bytes.
      const std::string again = Encode(*decoded.message);
      const Decoded second = Decode(again, allow_non_finite);
      if (!second.ok() || Encode(*second.message) != again) {
        violation("re-encoded message did not round-trip: " + second.error.message, input);
      }
    } else {
      ++outcomes[decoded.error.code];
      if (decoded.error.code == ErrorCode::kOk || decoded.error.message.empty()) {
        violation("refusal without a code or a message", input);
      }
      if (decoded.error.message.rfind("frame: not valid msgpack", 0) == 0 ||
          decoded.error.message.rfind("frame: over a msgpack limit", 0) == 0) {
        ++unpack_disagreements;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string summary;
  for (const auto& [code, count] : outcomes) {
    summary += std::string(ErrorCodeName(code)) + "=" + std::to_string(count) + " ";
  }
  BOOST_TEST_MESSAGE(kMutated << " mutated inputs + " << valid_checked << " valid frames in "
                              << seconds << " s: " << summary);
  BOOST_TEST(violations == 0u, first_violation);
  BOOST_TEST(unpack_disagreements == 0u);
  BOOST_TEST(valid_checked + kMutated >= 100000u);
  // The mutations reach past the envelope into field checks, not only the byte scanner.
  for (ErrorCode code : {ErrorCode::kMalformed, ErrorCode::kUnsupportedVersion,
                         ErrorCode::kUnknownType, ErrorCode::kMissingField, ErrorCode::kWrongType,
                         ErrorCode::kWrongFeatureCount, ErrorCode::kTooManyRows,
                         ErrorCode::kTooLarge, ErrorCode::kInvalidArgument}) {
    BOOST_TEST_INFO("error code " << code);
    BOOST_TEST(outcomes[code] > 0u);
  }
  BOOST_TEST(outcomes[ErrorCode::kOk] > 0u);
  BOOST_TEST(seconds < 15.0);
}

BOOST_AUTO_TEST_CASE(RefusesHostileLengthsQuicklyWhateverTheLimits) {
  Limits unlimited;
  unlimited.max_array = SIZE_MAX;
  unlimited.max_string = SIZE_MAX;
  unlimited.max_depth = SIZE_MAX;
  const std::vector<std::string> hostile = {
      std::string("\xdd\xff\xff\xff\xff", 5),                 // array of 2^32-1
      std::string("\xdf\xff\xff\xff\xff", 5),                 // map of 2^32-1
      std::string("\xdb\xff\xff\xff\xff", 5),                 // str of 2^32-1
      std::string("\xc6\xff\xff\xff\xff", 5),                 // bin of 2^32-1
      std::string("\xc9\xff\xff\xff\xff\x01", 6),             // ext of 2^32-1
      std::string("\x93\x01\x01\xdd\xff\xff\xff\xff", 8),     // inside an envelope
      std::string(200000, '\x91'),                            // 200000 nested arrays
  };
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& frame : hostile) {
    for (const Limits& limits : {Limits{}, unlimited}) {
      const Decoded decoded = Decode(frame, limits);
      BOOST_TEST(!decoded.ok());
      BOOST_TEST(!decoded.error.message.empty());
    }
  }
  BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 1.0);
}
