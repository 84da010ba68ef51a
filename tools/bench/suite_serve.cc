// Suite "serve": one replica on loopback under the open-loop load generator (a separate
// process): p50/p99/p99.9 and achieved rate at doubling rates up to saturation, with dynamic
// batching on and off, for requests of 1 row and of 100 rows; then the latency at half of the
// saturation rate, and the 1-row saturation rate against the original's single-call rate
// (tools/bench/original_style.py, measured in the same run). Then the 1-row, batching-on case
// again pinned: the replica's threads on core 0 and the load generator on core 1 (as taskset
// would), so the figure measures the server rather than where the scheduler put it; those
// figures are named serve_pinned_* (skipped with a note on fewer than two usable cores).
#include <sched.h>

#include <algorithm>

#include "bench_context.h"
#include "load_ladder.h"
#include "model/compute_threads.h"
#include "served_replica.h"

namespace reflex::bench {

namespace {

// 1-row requests, batching on, replica on core 0 and load generator on core 1.
// original_single_call_per_s: 0 when the original's figures are missing.
Status RunPinnedServe(BenchContext& ctx, double original_single_call_per_s) {
  cpu_set_t usable;
  if (sched_getaffinity(0, sizeof usable, &usable) != 0 || !CPU_ISSET(0, &usable) || !CPU_ISSET(1, &usable)) {
    ctx.report().Note("serve_pinned_* skipped: cores 0 and 1 are not both usable");
    return Status();
  }
  cpu_set_t server_core;
  CPU_ZERO(&server_core);
  CPU_SET(0, &server_core);
  // Threads inherit the creating thread's mask: pin the main thread while the replica starts
  // its threads, then give the main thread (which only runs the ladder) its mask back.
  if (sched_setaffinity(0, sizeof server_core, &server_core) != 0) {
    ctx.report().Note("serve_pinned_* skipped: cannot pin to core 0");
    return Status();
  }
  auto bundle = ctx.Bundle();
  auto replica = bundle.ok() ? ServedReplica::Start(*bundle, true, 2) : Result<std::unique_ptr<ServedReplica>>(bundle.status());
  sched_setaffinity(0, sizeof usable, &usable);
  if (!replica.ok()) return replica.status();
  ctx.loadgen_cpu = 1;
  const nlohmann::json params = {{"rows_per_request", 1}, {"batching", true}, {"server_core", 0}, {"loadgen_core", 1}};
  BenchReport& report = ctx.report();
  auto ladder = ClimbToSaturation(ctx, (*replica)->endpoint(), 1, ctx.quick() ? 500 : 2000, params);
  Result<LoadResult> half = Status::Internal("not run");
  if (ladder.ok()) {
    report.Add("serve_pinned_saturation_rps", ladder->saturation_rps, "req/s", params);
    if (original_single_call_per_s > 0) {
      report.Add("serve_pinned_vs_original_rate_ratio", ladder->saturation_rps / original_single_call_per_s, "ratio",
                 params);
    }
    half = RunLoadStep(ctx, (*replica)->endpoint(), 1, std::max(1.0, ladder->saturation_rps / 2),
                       ctx.quick() ? 0.2 : ctx.options().step_seconds);
    if (half.ok()) AddStepFigures(report, "serve_pinned_half_saturation", *half, params);
  }
  ctx.loadgen_cpu = -1;
  if (!ladder.ok()) return ladder.status();
  if (!half.ok()) return half.status();
  const auto stats = (*replica)->server_stats();
  report.Add("serve_pinned_inline_fraction",
             stats.score_requests ? static_cast<double>(stats.inline_requests) / static_cast<double>(stats.score_requests) : 0,
             "ratio", params);
  return Status();
}

}  // namespace

Status RunServeSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  SetComputeThreads(1);
  BenchReport& report = ctx.report();
  auto original = ctx.Original();
  if (original.ok()) {
    report.Add("original_single_call_per_s", (*original)["single_call_per_s"].get<double>(), "calls/s", {{"rows", 1}});
    report.Add("original_single_call_p99_us", (*original)["single_call_p99_us"].get<double>(), "us", {{"rows", 1}});
    report.Add("original_batch100_rows_per_s", (*original)["batch100_rows_per_s"].get<double>(), "rows/s", {{"rows", 100}});
  } else {
    report.Note("original's figures skipped: " + original.status().message());
  }

  for (uint32_t rows : {1u, 100u}) {
    for (bool batching : {true, false}) {
      auto replica = ServedReplica::Start(*bundle, batching, 2);
      if (!replica.ok()) return replica.status();
      const nlohmann::json params = {{"rows_per_request", rows}, {"batching", batching}};
      const double start = ctx.quick() ? (rows == 1 ? 500 : 50) : (rows == 1 ? 2000 : 250);
      auto ladder = ClimbToSaturation(ctx, (*replica)->endpoint(), rows, start, params);
      if (!ladder.ok()) return ladder.status();
      const double sat = ladder->saturation_rps;
      report.Add("serve_saturation_rps", sat, "req/s", params);
      report.Add("serve_saturation_rows_per_s", sat * rows, "rows/s", params);
      auto half = RunLoadStep(ctx, (*replica)->endpoint(), rows, std::max(1.0, sat / 2),
                              ctx.quick() ? 0.2 : ctx.options().step_seconds);
      if (!half.ok()) return half.status();
      AddStepFigures(report, "serve_half_saturation", *half, params);
      const auto stats = (*replica)->server_stats();
      if (stats.batches > 0) {
        report.Add("serve_mean_requests_per_model_call",
                   static_cast<double>(stats.batched_requests) / static_cast<double>(stats.batches), "req", params);
      }
      if (rows == 1 && batching) {
        ctx.saturation_rps = sat;
        if (original.ok()) {
          report.Add("serve_vs_original_rate_ratio", sat / (*original)["single_call_per_s"].get<double>(), "ratio",
                     params);
        }
      }
    }
  }
  return RunPinnedServe(ctx, original.ok() ? (*original)["single_call_per_s"].get<double>() : 0);
}

}  // namespace reflex::bench
