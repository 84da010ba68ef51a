// libFuzzer harness for the rule language (libs/core/rules.h, rule_parser.h), built by
// tools/fuzz/build.sh with clang++ -fsanitize=fuzzer,address,undefined; not part of the CMake
// build. Each input is rule text, parsed against ten features (x0..x9, as the bundles name them,
// plus V14 as in the original). The harness aborts (libFuzzer saves the input as a crash) when:
//   - a refusal is not InvalidArgument or has an empty message, or names no source position;
//   - an accepted rule set's canonical text (ToText) does not parse again to the same text
//     (ToString promises "parses back to the same rule");
//   - evaluating an accepted rule set on a few rows (zeros, NaN, extremes) misbehaves (ASan/UBSan).
// With RULES_FUZZ_WRITE_SEEDS=<dir>, LLVMFuzzerInitialize first writes a few valid rule files.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/rules.h"

namespace {

const std::vector<std::string>& Features() {
  static const std::vector<std::string> names = {"x0", "x1", "x2", "x3", "x4", "x5",
                                                 "x6", "x7", "x8", "x9", "V14"};
  return names;
}

[[noreturn]] void Violation(const char* what, const std::string& detail) {
  std::fprintf(stderr, "rules fuzz invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

void WriteSeeds(const char* dir) {
  const char* seeds[] = {
      "rule v14_low: V14 < -1.5 => positive\n",
      "# comment\nrule a: x0 > 1 and not (x1 <= 2e-3 or x2 == 3) => negative  # trailing\n\n",
      "rule b: x9 != -0.5 => positive\nrule c: (x3 >= 1) or x4 < 2 and x5 > 3 => negative\n",
  };
  int i = 0;
  for (const char* seed : seeds) {
    std::ofstream(std::string(dir) + "/seed" + std::to_string(i++) + ".rules") << seed;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("RULES_FUZZ_WRITE_SEEDS")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = reflex::RuleSet::Parse(text, Features(), "fuzz.rules");
  if (!parsed.ok()) {
    const reflex::Status& s = parsed.status();
    if (s.code() != reflex::StatusCode::kInvalidArgument) Violation("refusal is not InvalidArgument", s.message());
    if (s.message().empty()) Violation("refusal without a message", text);
    if (s.message().rfind("fuzz.rules", 0) != 0) Violation("message does not name the source", s.message());
    return 0;
  }
  const std::string canonical = parsed->ToText();
  auto again = reflex::RuleSet::Parse(canonical, Features(), "canonical");
  if (!again.ok()) Violation("canonical text does not parse", again.status().message() + "\n" + canonical);
  if (again->ToText() != canonical) Violation("canonical text is not a fixed point", canonical);
  if (again->size() != parsed->size()) Violation("rule count changed", canonical);
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::vector<float>> rows = {
      std::vector<float>(Features().size(), 0.0f),
      std::vector<float>(Features().size(), std::nanf("")),
      std::vector<float>(Features().size(), inf),
      std::vector<float>(Features().size(), -std::numeric_limits<float>::max()),
  };
  for (size_t r = 0; r < parsed->size(); ++r) {
    for (const auto& row : rows) (void)parsed->Fires(r, row.data());
    (void)parsed->name(r);
    (void)parsed->outcome(r);
  }
  return 0;
}
