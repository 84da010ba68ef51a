// Suite "heal": the CPU time of one heal of the bench model, per strategy and against the rows
// in the heal, measured as this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) so that other work
// on the machine does not count. Each figure is the median of several heals of the same job.
//
//   heal_cpu_ms {rows, labelled_rows, strategy}  one heal's compute (the target of issue 20: a
//                                                covariate heal of the built-in model <= 50 ms)
//   heal_steps  {rows, labelled_rows, strategy}  optimiser steps that heal ran
//   heal_cpu_us_per_row                          heal_cpu_ms / rows, for how cost grows
//
// Jobs: the scenario's drifted rows (covariate drift) without labels at 100, 500 (the policy's
// window) and 2,000 rows, and at 500 rows with every tenth row labelled (a labelled heal builds
// the label-free candidate too). Single compute thread, like the healer actor.
#include <time.h>

#include <algorithm>
#include <vector>

#include "bench_context.h"
#include "core/shift_diagnosis.h"
#include "model/compute_threads.h"
#include "model/healer.h"

namespace reflex::bench {
namespace {

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string StrategyName(const HealReport& r) {
  std::string s = ShiftKindName(r.diagnosis.kind);
  if (r.chosen >= 0) s += "+labels";
  return s;
}

}  // namespace

Status RunHealSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  SetComputeThreads(1);
  const ModelBundle& b = **bundle;
  const LabeledData& drift = ctx.streams().drift;
  const size_t cols = b.model->input_dims();
  struct Case {
    size_t rows;
    size_t label_every;  // 0: no labels
  };
  const std::vector<Case> cases = ctx.quick() ? std::vector<Case>{{100, 0}, {100, 10}}
                                              : std::vector<Case>{{100, 0}, {500, 0}, {2000, 0}, {500, 10}};
  const int repeats = ctx.quick() ? 1 : 7;
  for (const Case& c : cases) {
    HealJob job;
    job.base = b.model->initial_adapter();
    job.n_rows = std::min(c.rows, drift.rows());
    job.rows.assign(drift.features.begin(), drift.features.begin() + job.n_rows * cols);
    if (c.label_every > 0) {
      job.labels.assign(job.n_rows, -1);
      for (size_t i = 0; i < job.n_rows; i += c.label_every) job.labels[i] = static_cast<int8_t>(drift.labels[i]);
    }
    job.rules = b.rules.get();
    job.new_version = 1;
    std::vector<double> cpu_ms;
    HealReport last;
    for (int k = 0; k < repeats; ++k) {
      const double t0 = ThreadCpuMs();
      auto outcome = Heal(*b.model, *b.calibration, job);
      cpu_ms.push_back(ThreadCpuMs() - t0);
      if (!outcome.ok()) return outcome.status();
      last = outcome->report;
    }
    const double ms = MedianOf(cpu_ms);
    const size_t labelled = c.label_every ? (job.n_rows + c.label_every - 1) / c.label_every : 0;
    const nlohmann::json params = {{"rows", job.n_rows}, {"labelled_rows", labelled}, {"strategy", StrategyName(last)},
                                   {"accepted", last.accepted}, {"repeats", repeats}};
    ctx.report().Add("heal_cpu_ms", ms, "ms", params);
    ctx.report().Add("heal_steps", last.steps_run, "steps", params);
    ctx.report().Add("heal_cpu_us_per_row", 1e3 * ms / static_cast<double>(job.n_rows), "us", params);
  }
  return Status();
}

}  // namespace reflex::bench
