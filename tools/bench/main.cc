// reflex-bench: Reflex's benchmarks (issue 6). Prints a table and writes DIR/bench.json, one
// object per figure {suite, name, value, unit, params}. See docs/BENCHMARKS.md.
//
//   reflex-bench --suite NAME[,NAME...]|all [--out DIR] [--quick] [--seed N] [--step-seconds S]
//                [--python PATH] [--original-script PATH]
//   suites: forward, heal, serve, serve-while-healing, heal-to-fleet, fan-out, coordinator
// The load generator runs as its own process, reflex-bench-loadgen, found next to this binary.
// Exit codes: 0 done, 1 a suite failed (the figures so far are still written), 2 bad flags.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench_context.h"

namespace {

using reflex::Status;
using reflex::bench::BenchContext;

constexpr int kBadFlags = 2;

struct Suite {
  const char* name;
  Status (*run)(BenchContext&);
};
constexpr Suite kSuites[] = {
    {"forward", reflex::bench::RunForwardSuite},
    {"heal", reflex::bench::RunHealSuite},
    {"serve", reflex::bench::RunServeSuite},
    {"serve-while-healing", reflex::bench::RunServeWhileHealingSuite},
    {"heal-to-fleet", reflex::bench::RunHealToFleetSuite},
    {"fan-out", reflex::bench::RunFanOutSuite},
    {"coordinator", reflex::bench::RunCoordinatorSuite},
};

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// 256 subscribers in one process hold two sockets each plus ZeroMQ's signalling fds.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reflex-bench: Reflex's benchmarks; prints a table and writes DIR/bench.json"};
  std::string suites_flag;
  reflex::bench::BenchOptions options;
  options.out_dir = "bench-results";
  options.original_script = REFLEX_BENCH_ORIGINAL_SCRIPT;
  app.add_option("--suite", suites_flag,
                 "forward, heal, serve, serve-while-healing, heal-to-fleet, fan-out, coordinator, a comma list, or all");
  app.add_option("--out", options.out_dir, "folder for bench.json (created)");
  app.add_flag("--quick", options.quick, "tiny, fast settings: checks that the suites run, measures nothing useful");
  app.add_option("--seed", options.seed, "seed of the model, data and arrivals");
  app.add_option("--step-seconds", options.step_seconds, "load-generator window per rate step")->check(CLI::PositiveNumber);
  app.add_option("--python", options.python, "python3 with torch, for the original's figures");
  app.add_option("--original-script", options.original_script, "tools/bench/original_style.py");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kBadFlags;
  }
  std::vector<const Suite*> chosen;
  if (suites_flag.empty()) {
    std::fprintf(stderr, "reflex-bench: --suite is required (one of forward, heal, serve, serve-while-healing, "
                         "heal-to-fleet, fan-out, coordinator, or all)\n");
    return kBadFlags;
  }
  std::stringstream names(suites_flag);
  std::string name;
  while (std::getline(names, name, ',')) {
    bool found = false;
    for (const Suite& s : kSuites) {
      if (name == "all" || name == s.name) {
        chosen.push_back(&s);
        found = true;
      }
    }
    if (!found) {
      std::fprintf(stderr, "reflex-bench: unknown suite '%s' (forward, heal, serve, serve-while-healing, heal-to-fleet, "
                           "fan-out, coordinator, all)\n", name.c_str());
      return kBadFlags;
    }
  }
  const std::string self = SelfExe();
  options.loadgen_exe = (std::filesystem::path(self).parent_path() / "reflex-bench-loadgen").string();
  if (self.empty() || access(options.loadgen_exe.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "reflex-bench: the load generator %s is missing (build target reflex-bench-loadgen)\n",
                 options.loadgen_exe.c_str());
    return 1;
  }
  RaiseOpenFileLimit();

  std::string work = (std::filesystem::temp_directory_path() / "reflex-bench-XXXXXX").string();
  if (!mkdtemp(work.data())) {
    std::fprintf(stderr, "reflex-bench: cannot create a temporary folder\n");
    return 1;
  }
  BenchContext ctx(options, work);
  ctx.report().SetSuite("machine");
  ctx.report().Note("nproc " + std::to_string(std::thread::hardware_concurrency()) + ", CPU " + CpuModel() +
                    ", load average at start " + LoadAverage() + (options.quick ? ", --quick" : ""));
  int rc = 0;
  for (const Suite* s : chosen) {
    ctx.report().SetSuite(s->name);
    Status status = s->run(ctx);
    if (!status.ok()) {
      std::fprintf(stderr, "reflex-bench: suite %s failed: %s\n", s->name, status.ToString().c_str());
      rc = 1;
    }
  }
  ctx.report().SetSuite("machine");
  ctx.report().Note("load average at end " + LoadAverage());
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  Status written = ctx.report().Write(options.out_dir);
  if (!written.ok()) {
    std::fprintf(stderr, "reflex-bench: %s\n", written.ToString().c_str());
    return 1;
  }
  std::printf("\nwrote %s/bench.json (%zu figures)\n", options.out_dir.c_str(), ctx.report().figures().size());
  return rc;
}
