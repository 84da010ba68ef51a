#include "model/trainer.h"

#include <cmath>

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

Status TrainClassifier(HealableModel& model, BatchView rows, const uint8_t* labels, const TrainConfig& config,
                       const std::function<void(int, double)>& on_epoch) {
  HealableModel::Parts& parts = model.parts();
  if (parts.torchscript || !parts.multiclass()) {
    return Status::FailedPrecondition("TrainClassifier: only for built-in multi-class models (CreateImageCnn)");
  }
  if (rows.cols != model.input_dims()) {
    return Status::InvalidArgument("TrainClassifier: rows have " + std::to_string(rows.cols) + " features, the model takes " +
                                   std::to_string(model.input_dims()));
  }
  if (rows.rows == 0) return Status::InvalidArgument("TrainClassifier: no training rows");
  for (size_t i = 0; i < rows.rows; ++i) {
    if (labels[i] >= parts.spec.num_classes) {
      return Status::InvalidArgument("TrainClassifier: row " + std::to_string(i) + " has label " + std::to_string(labels[i]) +
                                     ", the model has " + std::to_string(parts.spec.num_classes) + " classes");
    }
  }
  try {
    torch::manual_seed(config.seed);
    torch::Tensor x = BatchTensor(rows);  // read-only view; batches are gathered copies
    torch::Tensor y = torch::from_blob(const_cast<uint8_t*>(labels), {static_cast<int64_t>(rows.rows)}, torch::kUInt8).to(torch::kLong);
    std::vector<torch::Tensor> params;
    for (const auto& p : parts.mlp_backbone->parameters()) { p.set_requires_grad(true); params.push_back(p); }
    for (const auto& p : parts.mlp_head->parameters()) { p.set_requires_grad(true); params.push_back(p); }
    torch::optim::Adam opt(params, torch::optim::AdamOptions(config.lr));
    const int64_t n = static_cast<int64_t>(rows.rows);
    const int64_t steps_per_epoch = (n + config.batch_size - 1) / config.batch_size;
    const double total_steps = static_cast<double>(steps_per_epoch) * config.epochs;
    int64_t step = 0;
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
      torch::Tensor perm = torch::randperm(n, torch::kLong);
      double total = 0;
      int64_t batches = 0;
      for (int64_t start = 0; start < n; start += config.batch_size) {
        torch::Tensor idx = perm.slice(0, start, std::min<int64_t>(start + config.batch_size, n));
        if (config.cosine_decay) {
          const double lr = 0.5 * config.lr * (1.0 + std::cos(M_PI * static_cast<double>(step) / total_steps));
          static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr(lr);
        }
        ++step;
        torch::Tensor logits = parts.HeadLogits(parts.Backbone(x.index_select(0, idx)));
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y.index_select(0, idx));
        opt.zero_grad();
        loss.backward();
        opt.step();
        total += loss.item<double>();
        ++batches;
      }
      if (on_epoch) on_epoch(epoch, total / std::max<int64_t>(1, batches));
    }
    for (auto& p : parts.mlp_backbone->parameters()) p.set_requires_grad(false);
    for (auto& p : parts.mlp_head->parameters()) p.set_requires_grad(false);
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("TrainClassifier: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}


}  // namespace reflex
