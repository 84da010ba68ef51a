#include "model/heal_step.h"

#include <cmath>

namespace reflex {

bool TakeHealStep(const torch::Tensor& loss, torch::optim::Optimizer& optimizer, int step, const HealJob& job,
                  HealReport& report) {
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return false;
  if (step == 0) report.loss_first = value;
  report.loss_last = value;
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  report.steps_run = step + 1;
  if (job.on_step) job.on_step(step);
  return true;
}

AdapterVersion SealCandidate(const HealJob& job, const AdapterTensors& adapter, bool* finite) {
  AdapterVersion candidate;
  candidate.version = job.new_version;
  candidate.parent = job.base.version;
  candidate.epoch = job.epoch;
  candidate.dims = job.base.dims;
  candidate.weights = FlattenTensors(adapter);
  for (float w : candidate.weights) *finite = *finite && std::isfinite(w);
  candidate.Seal();
  return candidate;
}

}  // namespace reflex
