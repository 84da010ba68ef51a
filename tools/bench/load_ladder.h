// Load ladder: runs the open-loop load generator (load_generator.h, in its own process) against
// one endpoint at increasing fixed rates (doubling) until the endpoint saturates, adding each
// step's figures to the report.
//
// A step counts as saturated when the replica answered less than 90% of the offered rate, shed
// or lost more than 1% of the requests, or its p99 passed 100 ms; the ladder stops after the
// first saturated step. The saturation rate is the highest achieved rate of any step.
// Main thread only. Units: requests per second, microseconds.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench_context.h"
#include "load_generator.h"

namespace reflex::bench {

struct LadderResult {
  double saturation_rps = 0;
  int steps = 0;
};

// `params` are added to every figure (e.g. {"rows_per_request": 1, "batching": true}).
Result<LadderResult> ClimbToSaturation(BenchContext& ctx, const std::string& endpoint, uint32_t rows_per_request,
                                       double start_rps, const nlohmann::json& params);

// One step at `rate_rps` for `seconds`, in a child process; also notes the CPU this process
// (the replica under test) used meanwhile in server_cpu_s.
Result<LoadResult> RunLoadStep(BenchContext& ctx, const std::string& endpoint, uint32_t rows_per_request,
                               double rate_rps, double seconds);

// Adds p50/p99/p99.9/achieved figures of one step under `prefix` (e.g. "serve").
void AddStepFigures(BenchReport& report, const std::string& prefix, const LoadResult& r, nlohmann::json params);

}  // namespace reflex::bench
