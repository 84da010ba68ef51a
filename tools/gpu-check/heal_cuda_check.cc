// heal_cuda_check: runs the same heal on the CPU and on CUDA and prints what each produced.
// For the GPU machine (a CUDA LibTorch, no Debian packages): it needs libs/core and libs/model
// only. Build: tools/gpu-check/run.sh. Exit 0 when the CUDA heal ran on the device, was
// accepted, and heals about as well as the CPU one.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"

namespace {

struct Data {
  std::vector<float> rows;
  std::vector<uint8_t> labels;
  size_t n = 0;
};

constexpr size_t kDims = 10;

// Two informative features; positives ~20%. `offset` shifts features 0 and 1 (covariate drift).
Data Make(size_t n, uint64_t seed, float offset) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0, 1);
  Data d;
  d.n = n;
  for (size_t i = 0; i < n; ++i) {
    const bool pos = std::uniform_real_distribution<float>(0, 1)(rng) < 0.2f;
    for (size_t c = 0; c < kDims; ++c) {
      float v = g(rng);
      if (c < 2) v += (pos ? 1.5f : -0.4f) + offset;
      d.rows.push_back(v);
    }
    d.labels.push_back(pos ? 1 : 0);
  }
  return d;
}

double Accuracy(const reflex::HealableModel& m, const reflex::AdapterVersion& a, const Data& d) {
  auto p = m.Score(a, reflex::BatchView{d.rows.data(), d.n, kDims});
  if (!p.ok()) return -1;
  size_t right = 0;
  for (size_t i = 0; i < d.n; ++i) right += ((*p)[i] > 0.5f) == (d.labels[i] == 1);
  return static_cast<double>(right) / d.n;
}

}  // namespace

int main() {
  using namespace reflex;
  std::vector<std::string> names;
  for (size_t c = 0; c < kDims; ++c) names.push_back("x" + std::to_string(c));
  auto model = HealableModel::CreateMlp(names, 1);
  if (!model.ok()) return 2;
  Data train = Make(5000, 1, 0);
  if (!TrainMlp(**model, BatchView{train.rows.data(), train.n, kDims}, train.labels.data(), TrainConfig{}).ok()) return 2;
  auto cal = Calibrate(**model, BatchView{train.rows.data(), train.n, kDims}, train.labels.data(), nullptr);
  if (!cal.ok()) return 2;
  Data window = Make(500, 2, 2.0f), test = Make(2000, 3, 2.0f);
  std::printf("cuda available: %s\n", CudaAvailable() ? "yes" : "no");
  std::printf("frozen accuracy on drifted rows: %.3f\n", Accuracy(**model, (*model)->initial_adapter(), test));
  bool ok = true;
  double acc[2] = {0, 0};
  for (int cuda = 0; cuda < 2; ++cuda) {
    HealJob job;
    job.base = (*model)->initial_adapter();
    job.rows = window.rows;
    job.n_rows = window.n;
    job.new_version = 1;
    job.seed = 5;
    job.use_cuda = cuda == 1;
    const auto t0 = std::chrono::steady_clock::now();
    auto out = Heal(**model, *cal, job);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!out.ok()) {
      std::printf("heal (use_cuda=%d) failed: %s\n", cuda, out.status().ToString().c_str());
      return 1;
    }
    acc[cuda] = out->candidate ? Accuracy(**model, *out->candidate, test) : -1;
    std::printf("use_cuda=%d device=%s accepted=%d steps=%d loss %.4f -> %.4f accuracy %.3f wall %.1f ms (%s)\n", cuda,
                out->report.device.c_str(), out->candidate.has_value(), out->report.steps_run, out->report.loss_first,
                out->report.loss_last, acc[cuda], ms, out->report.reason.c_str());
    if (cuda == 1) ok = out->report.device == "cuda" && out->candidate.has_value();
  }
  ok = ok && std::abs(acc[1] - acc[0]) < 0.02;
  std::printf("%s\n", ok ? "CUDA heal OK" : "CUDA heal NOT OK");
  return ok ? 0 : 1;
}
