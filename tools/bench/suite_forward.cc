// Suite "forward": rows per second of the served model on one core at several batch sizes,
// beside the roofline: the same core's measured single-precision GEMM rate (OpenBLAS through
// CBLAS, one thread, the thread count the model runs with) converted to rows/s with the model's
// FLOPs per row. Reports the fraction of the roofline reached, and the same batches through the
// LibTorch reference path (HealableModel::ScoreReference) with the fused forward's speed-up.
#include <cblas.h>

#include <chrono>
#include <random>
#include <vector>

#include "bench_context.h"
#include "model/compute_threads.h"

namespace reflex::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Calls `once` (which processes `units` units) until at least `seconds` have passed; units/s.
template <typename F>
double Rate(F once, double units, double seconds) {
  once();  // warm-up: first-touch allocation, caches
  const auto start = Clock::now();
  double done = 0, elapsed = 0;
  do {
    once();
    done += units;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return done / elapsed;
}

// Single-precision GEMM rate C[m x n] = A[m x k] B[k x n], FLOP/s.
double GemmFlops(int m, int n, int k, double seconds) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * n), c(static_cast<size_t>(m) * n);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng);
  return Rate([&] { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n); },
              2.0 * m * n * k, seconds);
}

}  // namespace

Status RunForwardSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  const HealableModel& model = *(*bundle)->model;
  SetComputeThreads(1);
  const double seconds = ctx.quick() ? 0.02 : 0.5;
  const double flops_per_row = FlopsPerRow(**bundle);
  BenchReport& report = ctx.report();

  // The roofline: a square GEMM large enough to run at the core's peak, and the model's own
  // layer shape (4096 rows x 64 x 64) for reference.
  const int square = ctx.quick() ? 128 : 512;
  const double peak = GemmFlops(square, square, square, seconds);
  const double layer = GemmFlops(4096, 64, 64, seconds);
  const double roofline_rows = peak / flops_per_row;
  report.Add("gemm_peak_gflops", peak / 1e9, "GFLOP/s", {{"m", square}, {"n", square}, {"k", square}, {"threads", 1}});
  report.Add("gemm_model_shape_gflops", layer / 1e9, "GFLOP/s", {{"m", 4096}, {"n", 64}, {"k", 64}, {"threads", 1}});
  report.Add("model_flops_per_row", flops_per_row, "FLOP", {{"inputs", model.input_dims()}, {"width", model.spec().width}});
  report.Add("roofline_rows_per_s", roofline_rows, "rows/s", {{"threads", 1}});

  auto compiled = model.Compile(model.initial_adapter());
  if (!compiled.ok()) return compiled.status();
  const size_t cols = model.input_dims();
  std::mt19937 rng(ctx.options().seed);
  std::normal_distribution<float> feature(0, 1);
  for (size_t batch : {1, 8, 64, 256, 4096}) {
    std::vector<float> rows(batch * cols), probs(batch);
    for (float& v : rows) v = feature(rng);
    Status status;
    // Score: the fused forward where the parts are built in; ScoreReference: LibTorch for every
    // part (what Score ran before the fused forward), measured in the same run for the ratio.
    auto rate_of = [&](Status (HealableModel::*score)(const CompiledAdapter&, BatchView, float*) const) {
      return Rate(
          [&] {
            Status s = (model.*score)(**compiled, BatchView{rows.data(), batch, cols}, probs.data());
            if (!s.ok()) status = s;
          },
          static_cast<double>(batch), seconds);
    };
    const double rate = rate_of(&HealableModel::Score);
    const double libtorch = rate_of(&HealableModel::ScoreReference);
    if (!status.ok()) return status;
    report.Add("forward_rows_per_s", rate, "rows/s", {{"batch", batch}, {"threads", 1}});
    report.Add("forward_roofline_fraction", rate / roofline_rows, "ratio", {{"batch", batch}, {"threads", 1}});
    report.Add("forward_libtorch_rows_per_s", libtorch, "rows/s", {{"batch", batch}, {"threads", 1}});
    report.Add("forward_fused_speedup", rate / libtorch, "ratio", {{"batch", batch}, {"threads", 1}});
  }
  return Status();
}

}  // namespace reflex::bench
