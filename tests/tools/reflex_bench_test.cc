#define BOOST_TEST_MODULE tools_reflex_bench
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tool_run.h"

// Runs the built reflex-bench (path given by CMake) in its --quick mode: every suite runs and
// bench.json is well formed with the figures a reader looks for. Benchmarks are tools, not
// tests: no value is checked against a timing.
namespace fs = std::filesystem;

namespace {

using Run = reflex::testing::ToolRun;

Run Bench(const std::string& args) { return reflex::testing::RunTool(REFLEX_BENCH_BINARY, args, "reflex_bench_test"); }

}  // namespace

BOOST_AUTO_TEST_CASE(BadFlagsExitTwoWithAMessage) {
  Run unknown = Bench("--suite nonsense");
  BOOST_TEST(unknown.code == 2);
  BOOST_TEST(unknown.out.find("unknown suite 'nonsense'") != std::string::npos, unknown.out);
  Run missing = Bench("");
  BOOST_TEST(missing.code == 2);
  BOOST_TEST(missing.out.find("--suite is required") != std::string::npos, missing.out);
  Run bad_step = Bench("--suite forward --step-seconds -1");
  BOOST_TEST(bad_step.code == 2);
  Run bad_loadgen = reflex::testing::RunTool(REFLEX_BENCH_LOADGEN_BINARY, "'{\"endpoint\": \"\"}'", "reflex_bench_loadgen_test");
  BOOST_TEST(bad_loadgen.code == 2, bad_loadgen.out);
}

BOOST_AUTO_TEST_CASE(EverySuiteRunsAndWritesWellFormedFigures) {
  const fs::path out = fs::temp_directory_path() / ("reflex_bench_test_out_" + std::to_string(::getpid()));
  fs::remove_all(out);
  Run run = Bench("--suite all --quick --out " + out.string());
  BOOST_TEST_REQUIRE(run.code == 0, run.out);
  std::ifstream in(out / "bench.json");
  const nlohmann::json figures = nlohmann::json::parse(in, nullptr, false);
  BOOST_TEST_REQUIRE(figures.is_array(), run.out);
  std::set<std::string> names, suites;
  for (const auto& f : figures) {
    BOOST_TEST_REQUIRE(f.is_object());
    BOOST_TEST(f["name"].is_string());
    BOOST_TEST(f["value"].is_number());
    BOOST_TEST(f["unit"].is_string());
    BOOST_TEST(f["params"].is_object());
    names.insert(f.value("name", ""));
    suites.insert(f.value("suite", ""));
  }
  for (const char* suite : {"forward", "heal", "serve", "serve-while-healing", "heal-to-fleet", "fan-out", "coordinator"}) {
    BOOST_TEST(suites.count(suite) == 1, "no figure from suite " << suite << "\n" << run.out);
  }
  for (const char* name :
       {"gemm_peak_gflops", "roofline_rows_per_s", "forward_rows_per_s", "forward_roofline_fraction", "forward_libtorch_rows_per_s",
        "forward_fused_speedup", "serve_pinned_saturation_rps", "serve_pinned_half_saturation_p99_us", "heal_cpu_ms", "heal_steps",
        "heal_cpu_us_per_row", "serve_p50_us",
        "serve_p99_us", "serve_p999_us", "serve_achieved_rps", "serve_saturation_rps", "serve_half_saturation_p99_us",
        "serve_while_healing_p99_ratio", "heal_detection_rows", "heal_compute_ms", "heal_validation_ms",
        "heal_broadcast_ms", "heal_to_fleet_ms", "fanout_median_ms", "summaries_merged_per_s", "rss_per_replica_mib",
        "idle_cpu_percent_per_replica"}) {
    BOOST_TEST(names.count(name) == 1, "missing figure " << name << "\n" << run.out);
  }
  // The original's figures need Debian's python3-torch; without it the run says why instead.
  const bool have_original = names.count("original_single_call_per_s") == 1;
  BOOST_TEST((have_original || run.out.find("original's figures skipped") != std::string::npos), run.out);
  fs::remove_all(out);
}
