// BenchContext: what every reflex-bench suite gets: the run's options, the report to add
// figures to, and the model everything is measured with.
//
// The model is the original's MLP shape (in -> 64 -> 64 ReLU -> adapter 64x64 tanh -> 1
// sigmoid), trained on the recalibration scenario and written as a bundle once per run
// (Bundle()), so serving, healing and the cluster suites all use the same weights and the
// heal-to-fleet suite has a real drift stream.
//
// Ownership: owned by main; suites run one after another on the main thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bench_report.h"
#include "core/status.h"
#include "model/model_bundle.h"
#include "scenario_bundle.h"

namespace reflex::bench {

struct BenchOptions {
  bool quick = false;          // tiny, fast settings: checks the suite runs, not how fast
  uint64_t seed = 1;
  std::string out_dir;         // where bench.json goes
  std::string loadgen_exe;     // reflex-bench-loadgen (load_generator.h), next to reflex-bench
  std::string python = "/usr/bin/python3";
  std::string original_script; // tools/bench/original_style.py
  double step_seconds = 1.0;   // load-generator window per rate step
};

class BenchContext {
 public:
  BenchContext(BenchOptions options, std::string work_dir) : options_(std::move(options)), work_dir_(std::move(work_dir)) {}

  const BenchOptions& options() const { return options_; }
  bool quick() const { return options_.quick; }
  BenchReport& report() { return report_; }
  const std::string& work_dir() const { return work_dir_; }

  // Trains and loads the bundle on first use (seconds); later calls return the same one.
  Result<std::shared_ptr<const ModelBundle>> Bundle();
  // The scenario's streams (clean, drift, holdout) that came with Bundle().
  const sim::ScenarioStreams& streams() const { return streams_; }

  // The original's figures from tools/bench/original_style.py (run once, on first use, with
  // options().python); an error (e.g. python3-torch missing) says why they are absent.
  Result<nlohmann::json> Original();

  // serve: one replica's saturation rate at 1-row requests with batching on (0 until measured);
  // serve-while-healing loads the replica at half of it.
  double saturation_rps = 0;
  // >= 0: the core the load generator is pinned to (load_ladder.h); -1: unpinned.
  int loadgen_cpu = -1;

 private:
  BenchOptions options_;
  std::string work_dir_;
  BenchReport report_;
  std::shared_ptr<const ModelBundle> bundle_;
  sim::ScenarioStreams streams_;
  std::optional<Result<nlohmann::json>> original_;
};

// FLOPs of one row through the model: 2 per multiply-add of every layer (backbone, adapter,
// head); elementwise work is not counted.
double FlopsPerRow(const ModelBundle& bundle);

// Resident set size of this process now (from /proc/self/statm), in bytes; 0 if unreadable.
uint64_t ResidentBytes();
// CPU time this process has used (user + system), in seconds.
double ProcessCpuSeconds();

// The suites (one file each). Each adds its figures to ctx.report(); a failure to set up
// returns an error, a figure that cannot be measured becomes a note.
Status RunForwardSuite(BenchContext& ctx);
Status RunHealSuite(BenchContext& ctx);
Status RunServeSuite(BenchContext& ctx);
Status RunServeWhileHealingSuite(BenchContext& ctx);
Status RunHealToFleetSuite(BenchContext& ctx);
Status RunFanOutSuite(BenchContext& ctx);
Status RunCoordinatorSuite(BenchContext& ctx);

}  // namespace reflex::bench
