#include "load_ladder.h"

#include <algorithm>

namespace reflex::bench {

Result<LoadResult> RunLoadStep(BenchContext& ctx, const std::string& endpoint, uint32_t rows_per_request,
                               double rate_rps, double seconds) {
  LoadOptions lo;
  lo.cpu = ctx.loadgen_cpu;
  lo.endpoint = endpoint;
  lo.rate_rps = rate_rps;
  lo.duration_s = seconds;
  lo.rows_per_request = rows_per_request;
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  lo.cols = static_cast<uint32_t>((*bundle)->model->input_dims());
  lo.seed = ctx.options().seed;
  lo.drain_ms = ctx.quick() ? 300 : 2000;
  const double cpu_before = ProcessCpuSeconds();
  auto result = RunLoadGeneratorProcess(ctx.options().loadgen_exe, lo);
  if (result.ok()) result->server_cpu_s = ProcessCpuSeconds() - cpu_before;
  return result;
}

void AddStepFigures(BenchReport& report, const std::string& prefix, const LoadResult& r, nlohmann::json params) {
  params["rate_rps"] = r.offered_rps;
  report.Add(prefix + "_achieved_rps", r.achieved_rps, "req/s", params);
  report.Add(prefix + "_p50_us", r.p50_us, "us", params);
  report.Add(prefix + "_p99_us", r.p99_us, "us", params);
  report.Add(prefix + "_p999_us", r.p999_us, "us", params);
  if (r.server_cpu_s >= 0 && r.ok > 0) {
    // Everything this process did during the step (the replica: I/O thread, workers, model)
    // per answered request: what one request costs the server.
    report.Add(prefix + "_server_cpu_us_per_req", 1e6 * r.server_cpu_s / static_cast<double>(r.ok), "us", params);
  }
  if (r.overloaded + r.lost + r.errors > 0) {
    report.Note(prefix + " at " + std::to_string(static_cast<long>(r.offered_rps)) + " req/s (" +
                FormatParams(params) + "): " + std::to_string(r.overloaded) + " shed, " + std::to_string(r.lost) +
                " lost, " + std::to_string(r.errors) + " errors of " + std::to_string(r.sent));
  }
}

Result<LadderResult> ClimbToSaturation(BenchContext& ctx, const std::string& endpoint, uint32_t rows_per_request,
                                       double start_rps, const nlohmann::json& params) {
  LadderResult out;
  const int max_steps = ctx.quick() ? 1 : 12;
  const double seconds = ctx.quick() ? 0.2 : ctx.options().step_seconds;
  double rate = start_rps;
  for (int step = 0; step < max_steps; ++step, rate *= 2) {
    auto r = RunLoadStep(ctx, endpoint, rows_per_request, rate, seconds);
    if (!r.ok()) return r.status();
    AddStepFigures(ctx.report(), "serve", *r, params);
    ++out.steps;
    out.saturation_rps = std::max(out.saturation_rps, r->achieved_rps);
    const double bad = static_cast<double>(r->overloaded + r->lost + r->errors) / std::max<double>(1, r->sent);
    if (r->achieved_rps < 0.9 * rate || bad > 0.01 || r->p99_us > 100000) break;
  }
  return out;
}

}  // namespace reflex::bench
