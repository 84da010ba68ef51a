// reflex-bench-loadgen: the open-loop load generator's process (load_generator.h). reflex-bench
// starts it for every load step; it is a separate, small executable (no LibTorch, no CAF) so
// that it starts in milliseconds and its CPU is only the load's.
//
//   reflex-bench-loadgen '<json options>'   prints one JSON result line on stdout
// Exit codes: 0 done, 1 the load could not run (the message says why), 2 bad options.
#include <cstdio>

#include "load_generator.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: reflex-bench-loadgen '{\"endpoint\": ..., \"rate_rps\": ..., \"duration_s\": ..., "
                         "\"rows_per_request\": ..., \"cols\": ...}'\n");
    return 2;
  }
  const nlohmann::json j = nlohmann::json::parse(argv[1], nullptr, false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "reflex-bench-loadgen: the argument is not JSON\n");
    return 2;
  }
  auto options = reflex::bench::LoadOptionsFromJson(j);
  if (!options.ok()) {
    std::fprintf(stderr, "reflex-bench-loadgen: %s\n", options.status().message().c_str());
    return 2;
  }
  auto result = reflex::bench::GenerateLoad(*options);
  if (!result.ok()) {
    std::fprintf(stderr, "reflex-bench-loadgen: %s\n", result.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", reflex::bench::ToJson(*result).dump().c_str());
  return 0;
}
