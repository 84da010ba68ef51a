// The parts of a heal's optimisation that the binary and the multi-class healers share: one
// Adam step with its bookkeeping, and sealing the optimised adapter as a candidate version.
//
// Internal to libs/model (it names LibTorch types). Thread-compatible: each heal owns its
// optimiser, adapter tensors and report. Units: losses in nats.
#pragma once

#include <torch/optim/optimizer.h>

#include "core/adapter_version.h"
#include "model/healer.h"
#include "model/model_parts.h"

namespace reflex {

// Records `loss` in the report (loss_first at step 0, loss_last), steps the optimiser on it,
// counts the step and tells job.on_step. Returns false, without stepping, when the loss is not
// finite: the caller stops and the candidate is discarded.
bool TakeHealStep(const torch::Tensor& loss, torch::optim::Optimizer& optimizer, int step, const HealJob& job,
                  HealReport& report);

// The optimised adapter as version job.new_version (parent job.base.version, epoch job.epoch),
// sealed. Clears *finite when any weight is not finite.
AdapterVersion SealCandidate(const HealJob& job, const AdapterTensors& adapter, bool* finite);

}  // namespace reflex
