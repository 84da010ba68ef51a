#include "model/trainer.h"

#include "model/model_parts.h"

namespace reflex {

Status TrainMlp(HealableModel& model, BatchView rows, const uint8_t* labels, const TrainConfig& config) {
  HealableModel::Parts& parts = model.parts();
  if (parts.torchscript) return Status::FailedPrecondition("TrainMlp: TorchScript models are trained in PyTorch, not here");
  if (rows.cols != model.input_dims()) {
    return Status::InvalidArgument("TrainMlp: rows have " + std::to_string(rows.cols) + " features, the model takes " +
                                   std::to_string(model.input_dims()));
  }
  if (rows.rows == 0) return Status::InvalidArgument("TrainMlp: no training rows");
  try {
    torch::manual_seed(config.seed);
    torch::Tensor x = BatchTensor(rows).clone();
    std::vector<float> y_host(labels, labels + rows.rows);
    torch::Tensor y = torch::tensor(y_host);
    AdapterTensors adapter = ToTensors(parts.initial, true);
    std::vector<torch::Tensor> params = adapter.list();
    for (const auto& p : parts.mlp_backbone->parameters()) params.push_back(p);
    for (const auto& p : parts.mlp_head->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(config.lr));
    const int64_t n = static_cast<int64_t>(rows.rows);
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
      torch::Tensor perm = torch::randperm(n, torch::kLong);
      for (int64_t start = 0; start < n; start += config.batch_size) {
        torch::Tensor idx = perm.slice(0, start, std::min<int64_t>(start + config.batch_size, n));
        torch::Tensor logit = parts.HeadLogit(AdapterForward(adapter, parts.Backbone(x.index_select(0, idx))));
        torch::Tensor loss = torch::binary_cross_entropy_with_logits(logit, y.index_select(0, idx));
        opt.zero_grad();
        loss.backward();
        opt.step();
      }
    }
    for (auto& p : parts.mlp_backbone->parameters()) p.set_requires_grad(false);
    for (auto& p : parts.mlp_head->parameters()) p.set_requires_grad(false);
    AdapterVersion v0;
    v0.dims = parts.initial.dims;
    v0.weights = FlattenTensors(adapter);
    v0.Seal();
    REFLEX_RETURN_IF_ERROR(v0.Verify().WithContext("TrainMlp: trained adapter"));
    parts.initial = std::move(v0);
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("TrainMlp: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

}  // namespace reflex
