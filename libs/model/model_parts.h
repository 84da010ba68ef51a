// LibTorch internals of HealableModel, shared by the .cc files of libs/model only.
// Nothing outside libs/model may include this header (it pulls in LibTorch).
//
// Thread-safety: the frozen networks are only read after training; adapter tensors are
// created per version (CompiledAdapter) or per heal (AdapterTensors with gradients).
#pragma once

#include <torch/torch.h>
#include <torch/script.h>

#include <functional>

#include "core/adapter_version.h"
#include "model/healable_model.h"

namespace reflex {

// The five adapter parameters as tensors.
struct AdapterTensors {
  torch::Tensor w1, b1, w2, b2, scale;  // [hidden,width], [hidden], [width,hidden], [width], [1]
  std::vector<torch::Tensor> list() const { return {w1, b1, w2, b2, scale}; }
};

// Copies a version's flat weights into fresh tensors (optionally requiring gradients).
AdapterTensors ToTensors(const AdapterVersion& adapter, bool requires_grad);
// Copies tensors back into a flat weight vector in the AdapterVersion layout.
std::vector<float> FlattenTensors(const AdapterTensors& t);
// y = x + scale * (tanh(x W1^T + b1) W2^T) + b2
torch::Tensor AdapterForward(const AdapterTensors& a, const torch::Tensor& x);

struct HealableModel::Parts {
  ModelSpec spec;
  AdapterVersion initial;  // version 0
  bool torchscript = false;
  bool head_outputs_probability = false;  // TorchScript heads may end in a sigmoid (binary) or a softmax (K-class)
  // A TorchScript 2-class softmax head served as a binary model: its logit is z1 - z0 (from
  // probabilities: log p1 - log p0), so p(positive) is the probability of class 1.
  bool two_class_head = false;
  // Built-in MLP (and the built-in CNN, which uses the same two slots).
  torch::nn::Sequential mlp_backbone{nullptr};
  torch::nn::Linear mlp_head{nullptr};
  // TorchScript.
  std::shared_ptr<torch::jit::Module> ts_backbone, ts_head;

  torch::Tensor Backbone(const torch::Tensor& x) const;  // [n, in] -> [n, width]
  torch::Tensor HeadLogit(const torch::Tensor& h) const; // [n, width] -> [n] logits (binary)
  torch::Tensor HeadLogits(const torch::Tensor& h) const; // [n, width] -> [n, K] logits (multi-class)
  bool multiclass() const { return spec.num_classes >= 2; }
  // Probabilities from the adapter's output: [n] sigmoid (binary) or [n, K] softmax.
  torch::Tensor Probabilities(const torch::Tensor& adapter_out) const;
  std::vector<torch::Tensor> FrozenParameters() const;
};

class CompiledAdapter {
 public:
  explicit CompiledAdapter(AdapterTensors t, uint64_t version) : tensors_(std::move(t)), version_(version) {}
  const AdapterTensors& tensors() const { return tensors_; }
  uint64_t version() const { return version_; }

 private:
  AdapterTensors tensors_;
  uint64_t version_;
};

// Wraps a raw row-major batch as a [rows, cols] tensor without copying (read-only use).
torch::Tensor BatchTensor(BatchView rows);

}  // namespace reflex
