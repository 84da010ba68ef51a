// Suite "serve": one replica on loopback under the open-loop load generator (a separate
// process): p50/p99/p99.9 and achieved rate at doubling rates up to saturation, with dynamic
// batching on and off, for requests of 1 row and of 100 rows; then the latency at half of the
// saturation rate, and the 1-row saturation rate against the original's single-call rate
// (tools/bench/original_style.py, measured in the same run).
#include <algorithm>

#include "bench_context.h"
#include "load_ladder.h"
#include "model/compute_threads.h"
#include "served_replica.h"

namespace reflex::bench {

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
  return Status();
}

}  // namespace reflex::bench
