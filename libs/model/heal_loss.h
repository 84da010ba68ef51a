// The heal's loss, in one place: the terms the binary and the multi-class heal share (moments,
// proximal, moment distance), the weighted label loss the binary gate and candidate choice also
// use, and the binary heal's full loss and optimisation loop.
//
//   w_distill * distill + w_label * BCE(labels, pos weight) + w_rule * BCE(trusted rules)
//   + w_entropy * entropy + w_moment * moments + w_proximal * ||theta - theta_start||^2
//
// Internal to libs/model (names LibTorch types). Thread-compatible: each heal owns its tensors.
// Units: losses in nats; moments relative to the clean per-dimension variance.
#pragma once

#include <functional>

#include "model/heal_binary.h"

namespace reflex {

// Mean over `mask` of the positive-weighted BCE of `logit` against `labels`.
torch::Tensor WeightedLabelLoss(const torch::Tensor& logit, const torch::Tensor& labels, const torch::Tensor& mask,
                                double pos_weight);
// The moment term: squared standardised mean difference plus squared log variance ratio of the
// adapter's output against the clean calibration moments, averaged over dimensions.
torch::Tensor MomentLoss(const torch::Tensor& out, const torch::Tensor& clean_mean, const torch::Tensor& clean_var);
// Sum of squared differences between two adapters' tensors.
torch::Tensor ProximalLoss(const AdapterTensors& now, const AdapterTensors& was, const torch::TensorOptions& options);
// The gate's moment distance: squared differences of per-dimension means and standard
// deviations, over the mean clean variance (robust to dead units).
double MomentDistance(const torch::Tensor& out, const torch::Tensor& clean_mean, const torch::Tensor& clean_var);

// The head as the optimisation loop calls it: on the CPU, the model's own module; on CUDA, a
// copy of its parameters (built-in MLP) or of its module (TorchScript) on the device. The
// serving copy never moves: scoring and other heals keep using it on the CPU.
class LoopHead {
 public:
  LoopHead(const HealableModel::Parts& parts, torch::Device device);
  torch::Tensor operator()(const torch::Tensor& h) const;

 private:
  const HealableModel::Parts& parts_;
  torch::Device device_;
  std::shared_ptr<torch::jit::Module> ts_;
  torch::Tensor w_, b_;
};

// Runs the strategy's Adam steps on the binary loss, on h.device, from version 0 or the parent
// (StartsFromVersion0), and returns the optimised adapter (on h.device). Clears *finite when a
// loss is not finite (the loop stops there).
AdapterTensors OptimiseBinaryAdapter(const BinaryHeal& h, HealStrategy strategy, const HealTarget& target,
                                     HealReport* report, bool* finite);

}  // namespace reflex
