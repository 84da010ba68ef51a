// Suite "coordinator":
//   - drift summaries merged per second: the coordinator's DriftWindow::Add plus the Reading()
//     it takes after every summary, fed realistic summaries (DriftAccumulator::Drain of 100
//     scored rows with a 200-row reservoir) from 64 replicas in turn;
//   - memory per replica: the resident-set growth of this process per extra replica runtime
//     (scoring server, engine, weight subscriber, drift accumulator), next to the process's own
//     resident set once LibTorch and the model are loaded (what one replica process costs on
//     top);
//   - idle CPU per replica: an idle cluster (coordinator, healer, N replica actors) with CAF's
//     default work-stealing settings and with actors/scheduler_tuning.h, CPU time over a window.
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "actors/drift_accumulator.h"
#include "actors/drift_window.h"
#include "bench_cluster.h"
#include "bench_context.h"
#include "served_replica.h"

namespace reflex::bench {
namespace {

Status MeasureMerges(BenchContext& ctx, const ModelBundle& bundle) {
  const size_t cols = bundle.model->input_dims();
  const int replicas = 64;
  std::vector<wire::DriftSummary> summaries;
  std::mt19937 rng(ctx.options().seed);
  std::normal_distribution<float> feature(0, 1);
  for (int r = 0; r < replicas; ++r) {
    actors::DriftAccumulator acc(cols, bundle.rules, 200, 1000, static_cast<uint64_t>(r));
    std::vector<float> rows(100 * cols), probs(100, 0.3f);
    for (float& v : rows) v = feature(rng);
    acc.Record(1, rows.data(), 100, probs.data(), 0);
    summaries.push_back(acc.Drain("replica-" + std::to_string(r), 0, 0));
  }
  actors::DriftWindow window(bundle.fidi, cols, 5, 500);
  const double seconds = ctx.quick() ? 0.05 : 1.0;
  const auto start = std::chrono::steady_clock::now();
  uint64_t merged = 0;
  double elapsed = 0, sink = 0;
  do {
    for (const auto& s : summaries) {
      REFLEX_RETURN_IF_ERROR(window.Add(s));
      sink += window.Reading().max_z;
      ++merged;
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  ctx.report().Add("summaries_merged_per_s", static_cast<double>(merged) / elapsed, "summ/s",
                   {{"replicas", replicas}, {"rows_per_summary", 100}, {"sample_rows", summaries.front().sample_rows.size() / cols},
                    {"with_reading", true}});
  return sink >= 0 ? Status() : Status::Internal("impossible");
}

Status MeasureMemory(BenchContext& ctx, std::shared_ptr<const ModelBundle> bundle) {
  const uint64_t base = ResidentBytes();
  ctx.report().Add("process_rss_mib", static_cast<double>(base) / (1 << 20), "MiB", {{"what", "bench process, model loaded"}});
  const int n = ctx.quick() ? 2 : 16;
  std::vector<std::unique_ptr<ServedReplica>> replicas;
  for (int i = 0; i < n; ++i) {
    auto r = ServedReplica::Start(bundle, true, 2);
    if (!r.ok()) return r.status();
    replicas.push_back(std::move(*r));
  }
  const uint64_t after = ResidentBytes();
  ctx.report().Add("rss_per_replica_mib", static_cast<double>(after > base ? after - base : 0) / n / (1 << 20), "MiB",
                   {{"replicas", n}, {"what", "replica runtime + its weight bus, in-process"}});
  return Status();
}

Status MeasureIdleCpu(BenchContext& ctx, std::shared_ptr<const ModelBundle> bundle) {
  const int n = ctx.quick() ? 2 : 8;
  const double seconds = ctx.quick() ? 0.3 : 3.0;
  for (bool tuned : {false, true}) {
    BenchClusterOptions options;
    options.replicas = n;
    options.tuned_scheduler = tuned;
    auto cluster = BenchCluster::Start(bundle, options);
    if (!cluster.ok()) return cluster.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // settle after start-up
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = ProcessCpuSeconds() - cpu0;
    ctx.report().Add("idle_cpu_percent_per_replica", 100.0 * cpu / wall / n, "%",
                     {{"replicas", n}, {"scheduler", tuned ? "tuned" : "caf-default"}, {"window_s", seconds}});
  }
  return Status();
}

}  // namespace

Status RunCoordinatorSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  REFLEX_RETURN_IF_ERROR(MeasureMerges(ctx, **bundle));
  REFLEX_RETURN_IF_ERROR(MeasureMemory(ctx, *bundle));
  return MeasureIdleCpu(ctx, *bundle);
}

}  // namespace reflex::bench
