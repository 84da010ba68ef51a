#include "model/logit_offset.h"

#include <cmath>

#include "model/model_parts.h"

namespace reflex {

Result<std::vector<float>> HeadDirection(const HealableModel& model, BatchView probe) {
  const HealableModel::Parts& parts = model.parts();
  if (!parts.torchscript) {
    torch::Tensor w = parts.mlp_head->weight.detach().reshape({-1}).contiguous();
    return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  }
  if (probe.rows == 0 || probe.cols != model.input_dims()) {
    return Status::InvalidArgument("head direction: need probe rows of " + std::to_string(model.input_dims()) + " features");
  }
  try {
    torch::Tensor y;
    {
      torch::NoGradGuard no_grad;
      y = parts.Backbone(BatchTensor(probe)).detach().clone();
    }
    y.set_requires_grad(true);
    torch::Tensor logit = parts.HeadLogit(y);
    torch::Tensor grad = torch::autograd::grad({logit.sum()}, {y})[0].detach();  // [rows, width]
    torch::Tensor w = grad.mean(0);
    const double spread = (grad - w).abs().max().item<double>();
    const double size = w.abs().max().item<double>();
    if (!(size > 0) || spread > 1e-3 * size) {
      return Status::FailedPrecondition("head direction: the head is not affine in the adapter output (gradient varies by " +
                                        std::to_string(spread) + " across probe rows), so no b2 shift moves every logit equally");
    }
    w = w.contiguous();
    return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("head direction: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Result<double> HeadBias(const HealableModel& model, BatchView probe, const std::vector<float>& w) {
  if (w.size() != model.adapter_dims().width) return Status::InvalidArgument("head bias: head direction does not fit the model's width");
  if (probe.rows == 0 || probe.cols != model.input_dims()) {
    return Status::InvalidArgument("head bias: need probe rows of " + std::to_string(model.input_dims()) + " features");
  }
  try {
    torch::NoGradGuard no_grad;
    const HealableModel::Parts& parts = model.parts();
    torch::Tensor y = parts.Backbone(BatchTensor(probe));
    torch::Tensor wt = torch::from_blob(const_cast<float*>(w.data()), {static_cast<int64_t>(w.size())}, torch::kFloat32);
    return (parts.HeadLogit(y) - y.matmul(wt)).mean().item<double>();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("head bias: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Result<AdapterVersion> ShiftLogits(const AdapterVersion& adapter, const std::vector<float>& w, double delta) {
  const AdapterLayout layout(adapter.dims);
  if (adapter.weights.size() != layout.total || w.size() != adapter.dims.width) {
    return Status::InvalidArgument("logit shift: adapter of " + std::to_string(adapter.weights.size()) + " weights and head direction of " +
                                   std::to_string(w.size()) + " do not fit width " + std::to_string(adapter.dims.width));
  }
  if (!std::isfinite(delta)) return Status::InvalidArgument("logit shift: offset is not finite");
  double norm2 = 0;
  for (float v : w) norm2 += static_cast<double>(v) * v;
  if (!(norm2 > 0) || !std::isfinite(norm2)) return Status::InvalidArgument("logit shift: the head direction is zero");
  AdapterVersion out = adapter;
  for (size_t i = 0; i < w.size(); ++i) {
    out.weights[layout.b2 + i] = static_cast<float>(out.weights[layout.b2 + i] + delta * w[i] / norm2);
  }
  out.Seal();
  return out;
}

}  // namespace reflex
