#include "model/healable_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "model/fused_forward.h"
#include "model/model_parts.h"

namespace reflex {

// ---- adapter tensors -------------------------------------------------------------------

AdapterTensors ToTensors(const AdapterVersion& adapter, bool requires_grad) {
  const AdapterLayout layout(adapter.dims);
  const int64_t w = adapter.dims.width, h = adapter.dims.hidden;
  auto slice = [&](size_t offset, std::vector<int64_t> shape) {
    int64_t count = 1;
    for (int64_t s : shape) count *= s;
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    std::memcpy(t.data_ptr<float>(), adapter.weights.data() + offset, sizeof(float) * count);
    return t.set_requires_grad(requires_grad);
  };
  AdapterTensors t;
  t.w1 = slice(layout.w1, {h, w});
  t.b1 = slice(layout.b1, {h});
  t.w2 = slice(layout.w2, {w, h});
  t.b2 = slice(layout.b2, {w});
  t.scale = slice(layout.scale, {1});
  return t;
}

std::vector<float> FlattenTensors(const AdapterTensors& t) {
  std::vector<float> out;
  for (const torch::Tensor& p : t.list()) {
    torch::Tensor c = p.detach().to(torch::kCPU).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

torch::Tensor AdapterForward(const AdapterTensors& a, const torch::Tensor& x) {
  torch::Tensor hidden = torch::tanh(torch::addmm(a.b1, x, a.w1.t()));
  return x + a.scale * torch::mm(hidden, a.w2.t()) + a.b2;
}

torch::Tensor BatchTensor(BatchView rows) {
  return torch::from_blob(const_cast<float*>(rows.data),
                          {static_cast<int64_t>(rows.rows), static_cast<int64_t>(rows.cols)},
                          torch::kFloat32);
}

// ---- frozen parts ----------------------------------------------------------------------

torch::Tensor HealableModel::Parts::Backbone(const torch::Tensor& x) const {
  if (torchscript) return ts_backbone->forward({x}).toTensor();
  return mlp_backbone.ptr()->forward(x);
}

torch::Tensor HealableModel::Parts::HeadLogit(const torch::Tensor& h) const {
  torch::Tensor out = torchscript ? ts_head->forward({h}).toTensor() : mlp_head.ptr()->forward(h);
  if (two_class_head) {
    out = out.reshape({h.size(0), 2});
    if (head_outputs_probability) out = torch::log(out.clamp_min(1e-30));
    return out.select(1, 1) - out.select(1, 0);
  }
  out = out.reshape({-1});
  if (head_outputs_probability) out = torch::logit(out, 1e-6);
  return out;
}

torch::Tensor HealableModel::Parts::HeadLogits(const torch::Tensor& h) const {
  torch::Tensor out = torchscript ? ts_head->forward({h}).toTensor() : mlp_head.ptr()->forward(h);
  out = out.reshape({h.size(0), -1});
  // softmax(log p) = p: a softmax head's probabilities become logits that give them back.
  if (head_outputs_probability) out = torch::log(out.clamp_min(1e-30));
  return out;
}

torch::Tensor HealableModel::Parts::Probabilities(const torch::Tensor& adapter_out) const {
  if (multiclass()) return torch::softmax(HeadLogits(adapter_out), 1);
  return torch::sigmoid(HeadLogit(adapter_out));
}

std::vector<torch::Tensor> HealableModel::Parts::FrozenParameters() const {
  std::vector<torch::Tensor> out;
  if (torchscript) {
    for (const auto& p : ts_backbone->parameters()) out.push_back(p);
    for (const auto& p : ts_head->parameters()) out.push_back(p);
  } else {
    for (const auto& p : mlp_backbone->parameters()) out.push_back(p);
    for (const auto& p : mlp_head->parameters()) out.push_back(p);
  }
  return out;
}

namespace {

AdapterVersion IdentityAdapter(uint32_t width, uint32_t hidden, uint64_t seed) {
  AdapterVersion a;
  a.dims = {width, hidden};
  const AdapterLayout layout(a.dims);
  a.weights.assign(layout.total, 0.0f);
  // W1 small and random so gradients reach it once W2 moves; W2 = 0 and b2 = 0 make y = x.
  torch::Generator gen = at::detail::createCPUGenerator(seed);
  torch::Tensor w1 = torch::randn({static_cast<int64_t>(hidden), static_cast<int64_t>(width)}, gen) *
                     (1.0 / std::sqrt(static_cast<double>(width)));
  std::memcpy(a.weights.data() + layout.w1, w1.data_ptr<float>(), sizeof(float) * w1.numel());
  a.weights[layout.scale] = 0.1f;
  a.Seal();
  return a;
}

}  // namespace

HealableModel::HealableModel(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
HealableModel::~HealableModel() = default;

Result<std::shared_ptr<HealableModel>> HealableModel::CreateMlp(std::vector<std::string> feature_names,
                                                                uint64_t seed, uint32_t width) {
  if (feature_names.empty()) return Status::InvalidArgument("CreateMlp: the model needs at least one input feature");
  if (width == 0) return Status::InvalidArgument("CreateMlp: width must be positive");
  try {
    auto parts = std::make_unique<Parts>();
    parts->spec.feature_names = std::move(feature_names);
    parts->spec.width = width;
    parts->spec.adapter_hidden = width;
    parts->spec.source = "builtin-mlp";
    torch::manual_seed(seed);
    const int64_t in = static_cast<int64_t>(parts->spec.feature_names.size());
    parts->mlp_backbone = torch::nn::Sequential(torch::nn::Linear(in, width), torch::nn::ReLU(),
                                                torch::nn::Linear(width, width), torch::nn::ReLU());
    parts->mlp_head = torch::nn::Linear(width, 1);
    parts->initial = IdentityAdapter(width, width, seed + 1);
    return std::shared_ptr<HealableModel>(new HealableModel(std::move(parts)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("CreateMlp: LibTorch failed: ") + e.what());
  }
}

Result<std::shared_ptr<HealableModel>> HealableModel::CreateImageCnn(uint32_t height, uint32_t width_px,
                                                                     uint32_t num_classes, uint64_t seed,
                                                                     uint32_t width) {
  if (height == 0 || width_px == 0 || height % 4 != 0 || width_px % 4 != 0) {
    return Status::InvalidArgument("CreateImageCnn: image size " + std::to_string(height) + "x" +
                                   std::to_string(width_px) + " must be positive multiples of 4");
  }
  if (num_classes < 2) return Status::InvalidArgument("CreateImageCnn: needs at least 2 classes, got " + std::to_string(num_classes));
  if (width == 0) return Status::InvalidArgument("CreateImageCnn: width must be positive");
  try {
    auto parts = std::make_unique<Parts>();
    for (uint32_t i = 0; i < height * width_px; ++i) parts->spec.feature_names.push_back("px" + std::to_string(i));
    parts->spec.width = width;
    parts->spec.adapter_hidden = width;
    parts->spec.source = "builtin-cnn";
    parts->spec.num_classes = num_classes;
    parts->spec.image_height = height;
    parts->spec.image_width = width_px;
    torch::manual_seed(seed);
    namespace nn = torch::nn;
    const int64_t h = height, w = width_px;
    parts->mlp_backbone = nn::Sequential(
        nn::Unflatten(nn::UnflattenOptions(1, {1, h, w})),
        nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
        nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
        nn::Flatten(), nn::Linear(32 * (h / 4) * (w / 4), width), nn::ReLU());
    parts->mlp_head = nn::Linear(width, num_classes);
    parts->initial = IdentityAdapter(width, width, seed + 1);
    return std::shared_ptr<HealableModel>(new HealableModel(std::move(parts)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("CreateImageCnn: LibTorch failed: ") + e.what());
  }
}

Result<std::shared_ptr<HealableModel>> HealableModel::LoadTorchScript(const std::string& manifest_path) {
  namespace fs = std::filesystem;
  std::ifstream in(manifest_path);
  if (!in) return Status::IoError(manifest_path + ": cannot open the model manifest");
  nlohmann::json m;
  try {
    in >> m;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(manifest_path + ": not valid JSON: " + e.what());
  }
  auto parts = std::make_unique<Parts>();
  fs::path dir = fs::path(manifest_path).parent_path();
  std::string backbone_file, head_file, head_kind;
  uint32_t head_classes = 2;
  try {
    parts->spec.feature_names = m.at("feature_names").get<std::vector<std::string>>();
    parts->spec.width = m.at("width").get<uint32_t>();
    parts->spec.adapter_hidden = m.value("adapter_hidden", parts->spec.width);
    backbone_file = (dir / m.at("backbone").get<std::string>()).string();
    head_file = (dir / m.at("head").get<std::string>()).string();
    std::string head_output = m.value("head_output", std::string("logit"));
    if (head_output != "logit" && head_output != "probability") {
      return Status::InvalidArgument(manifest_path + ": head_output must be 'logit' or 'probability', found '" +
                                     head_output + "'");
    }
    parts->head_outputs_probability = head_output == "probability";
    head_kind = m.value("head_kind", std::string("binary"));
    if (head_kind != "binary" && head_kind != "softmax") {
      return Status::InvalidArgument(manifest_path + ": head_kind must be 'binary' or 'softmax', found '" + head_kind + "'");
    }
    head_classes = m.value("num_classes", head_kind == "binary" ? 2u : 0u);
    if (head_kind == "binary" && head_classes != 2) {
      return Status::InvalidArgument(manifest_path + ": a binary head has 2 classes, num_classes says " +
                                     std::to_string(head_classes));
    }
    if (head_kind == "softmax" && (head_classes < 2 || head_classes > 256)) {
      return Status::InvalidArgument(manifest_path + ": a softmax head needs num_classes 2..256, found " +
                                     std::to_string(head_classes));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(manifest_path + ": missing or mistyped field: " + e.what());
  }
  if (parts->spec.feature_names.empty() || parts->spec.width == 0 || parts->spec.adapter_hidden == 0) {
    return Status::InvalidArgument(manifest_path + ": feature_names, width and adapter_hidden must be non-empty/positive");
  }
  parts->spec.source = manifest_path;
  parts->torchscript = true;
  // A 2-class softmax head is served as binary (p of class 1); K >= 3 is a multi-class model.
  parts->two_class_head = head_kind == "softmax" && head_classes == 2;
  if (head_kind == "softmax" && head_classes >= 3) parts->spec.num_classes = head_classes;
  const int64_t head_columns = head_kind == "softmax" ? head_classes : 1;
  for (const auto& [file, slot] : {std::pair{backbone_file, &parts->ts_backbone}, std::pair{head_file, &parts->ts_head}}) {
    if (!fs::exists(file)) return Status::IoError(file + ": TorchScript file not found (named by " + manifest_path + ")");
    try {
      *slot = std::make_shared<torch::jit::Module>(torch::jit::load(file));
      (*slot)->eval();
      for (auto p : (*slot)->parameters()) p.set_requires_grad(false);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(file + ": cannot load TorchScript: " + std::string(e.what()).substr(0, 300));
    }
  }
  // Shape check: probe rows must flow through as [2, in] -> [2, width] -> the head's outputs.
  try {
    torch::NoGradGuard no_grad;
    torch::Tensor probe = torch::zeros({2, static_cast<int64_t>(parts->spec.feature_names.size())});
    torch::Tensor h = parts->Backbone(probe);
    if (h.dim() != 2 || h.size(0) != 2 || h.size(1) != parts->spec.width) {
      return Status::InvalidArgument(backbone_file + ": backbone maps [2, " +
                                     std::to_string(parts->spec.feature_names.size()) + "] to " +
                                     c10::str(h.sizes()) + ", expected [2, " + std::to_string(parts->spec.width) + "]");
    }
    torch::Tensor out = parts->ts_head->forward({h}).toTensor();
    if (out.numel() != 2 * head_columns) {
      return Status::InvalidArgument(head_file + ": head must give " +
                                     (head_columns == 1 ? std::string("one output") : std::to_string(head_columns) + " outputs") +
                                     " per row (manifest: " + head_kind + ", " + std::to_string(head_classes) +
                                     " classes); gave " + std::to_string(out.numel()) + " for 2 rows");
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(manifest_path + ": model does not accept rows of " +
                                   std::to_string(parts->spec.feature_names.size()) + " features: " +
                                   std::string(e.what()).substr(0, 300));
  }
  parts->initial = IdentityAdapter(parts->spec.width, parts->spec.adapter_hidden, 7);
  return std::shared_ptr<HealableModel>(new HealableModel(std::move(parts)));
}

const ModelSpec& HealableModel::spec() const { return parts_->spec; }
AdapterDims HealableModel::adapter_dims() const { return parts_->initial.dims; }
const AdapterVersion& HealableModel::initial_adapter() const { return parts_->initial; }

Result<std::shared_ptr<const CompiledAdapter>> HealableModel::Compile(const AdapterVersion& adapter) const {
  if (adapter.dims != adapter_dims()) {
    return Status::InvalidArgument("adapter version " + std::to_string(adapter.version) + " has dims " +
                                   std::to_string(adapter.dims.width) + "x" + std::to_string(adapter.dims.hidden) +
                                   ", the model needs " + std::to_string(adapter_dims().width) + "x" +
                                   std::to_string(adapter_dims().hidden));
  }
  REFLEX_RETURN_IF_ERROR(adapter.Verify());
  try {
    return std::shared_ptr<const CompiledAdapter>(
        std::make_shared<CompiledAdapter>(ToTensors(adapter, false), adapter.version));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("compiling adapter: LibTorch failed: ") + e.what());
  }
}

namespace {

// Large batches go through in blocks: a block's activations (block x width floats per layer)
// stay in the core's L2 cache. One 4096-row pass spilled them and ran at a third of the rate of
// 256-row blocks (reflex-bench --suite forward).
constexpr size_t kBlockRows = 256;

bool Fusable(const torch::Tensor& t) {
  return t.defined() && t.scalar_type() == torch::kFloat32 && t.device().is_cpu() && t.is_contiguous();
}

bool DenseOf(const torch::nn::LinearImpl& l, fused::Dense* d) {
  if (!Fusable(l.weight) || !Fusable(l.bias)) return false;
  *d = {l.weight.data_ptr<float>(), l.bias.data_ptr<float>(), static_cast<size_t>(l.weight.size(0)),
        static_cast<size_t>(l.weight.size(1))};
  return true;
}

// The adapter and the built-in head as a fused network over embedded rows (no backbone layers);
// false when the head is not built in (TorchScript) or a tensor is not plain CPU float32.
bool FusedHead(const HealableModel::Parts& parts, const CompiledAdapter& adapter, fused::Network* net) {
  if (parts.torchscript || parts.mlp_head.is_empty()) return false;
  const AdapterTensors& t = adapter.tensors();
  for (const torch::Tensor* p : {&t.w1, &t.b1, &t.w2, &t.b2, &t.scale}) {
    if (!Fusable(*p)) return false;
  }
  net->backbone_layers = 0;
  net->adapter.inner = {t.w1.data_ptr<float>(), t.b1.data_ptr<float>(), static_cast<size_t>(t.w1.size(0)),
                        static_cast<size_t>(t.w1.size(1))};
  net->adapter.w2 = t.w2.data_ptr<float>();
  net->adapter.b2 = t.b2.data_ptr<float>();
  net->adapter.scale = *t.scale.data_ptr<float>();
  net->softmax = parts.multiclass();
  return DenseOf(*parts.mlp_head, &net->head);
}

// FusedHead plus the built-in MLP backbone (Linear ReLU Linear ReLU); false for other backbones.
bool FusedMlp(const HealableModel::Parts& parts, const CompiledAdapter& adapter, fused::Network* net) {
  if (parts.spec.source != "builtin-mlp" || parts.mlp_backbone.is_empty() || parts.mlp_backbone->size() != 4) {
    return false;
  }
  if (!FusedHead(parts, adapter, net)) return false;
  auto first = parts.mlp_backbone->ptr(0)->as<torch::nn::LinearImpl>();
  auto second = parts.mlp_backbone->ptr(2)->as<torch::nn::LinearImpl>();
  if (first == nullptr || second == nullptr) return false;
  net->backbone_layers = 2;
  return DenseOf(*first, &net->backbone[0]) && DenseOf(*second, &net->backbone[1]);
}

}  // namespace

Status HealableModel::Score(const CompiledAdapter& adapter, BatchView rows, float* probs) const {
  if (rows.cols != input_dims()) {
    return Status::InvalidArgument("score: rows have " + std::to_string(rows.cols) + " features, the model takes " +
                                   std::to_string(input_dims()));
  }
  if (rows.rows == 0) return Status();
  const size_t per_row = outputs_per_row();
  fused::Network net;
  if (FusedMlp(*parts_, adapter, &net)) {  // every part built in: no LibTorch on this path
    for (size_t first = 0; first < rows.rows; first += kBlockRows) {
      const size_t n = std::min(kBlockRows, rows.rows - first);
      fused::Forward(net, rows.data + first * rows.cols, n, probs + first * per_row);
    }
    return Status();
  }
  if (!FusedHead(*parts_, adapter, &net)) return ScoreReference(adapter, rows, probs);
  try {  // a LibTorch backbone (the built-in CNN), then the fused adapter and head
    torch::InferenceMode guard;
    for (size_t first = 0; first < rows.rows; first += kBlockRows) {
      const BatchView block{rows.data + first * rows.cols, std::min(kBlockRows, rows.rows - first), rows.cols};
      torch::Tensor h = parts_->Backbone(BatchTensor(block)).contiguous();
      fused::Forward(net, h.data_ptr<float>(), block.rows, probs + first * per_row);
    }
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("score: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Status HealableModel::ScoreReference(const CompiledAdapter& adapter, BatchView rows, float* probs) const {
  if (rows.cols != input_dims()) {
    return Status::InvalidArgument("score: rows have " + std::to_string(rows.cols) + " features, the model takes " +
                                   std::to_string(input_dims()));
  }
  if (rows.rows == 0) return Status();
  try {
    torch::InferenceMode guard;
    const size_t per_row = outputs_per_row();
    for (size_t first = 0; first < rows.rows; first += kBlockRows) {
      const BatchView block{rows.data + first * rows.cols, std::min(kBlockRows, rows.rows - first), rows.cols};
      torch::Tensor p = parts_->Probabilities(AdapterForward(adapter.tensors(), parts_->Backbone(BatchTensor(block)))).contiguous();
      std::memcpy(probs + first * per_row, p.data_ptr<float>(), sizeof(float) * block.rows * per_row);
    }
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("score: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Status HealableModel::Embed(BatchView rows, float* hidden) const {
  if (rows.cols != input_dims()) {
    return Status::InvalidArgument("embed: rows have " + std::to_string(rows.cols) + " features, the model takes " +
                                   std::to_string(input_dims()));
  }
  if (rows.rows == 0) return Status();
  try {
    torch::InferenceMode guard;
    torch::Tensor h = parts_->Backbone(BatchTensor(rows)).contiguous();
    std::memcpy(hidden, h.data_ptr<float>(), sizeof(float) * h.numel());
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("embed: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Status HealableModel::ScoreEmbedded(const CompiledAdapter& adapter, BatchView hidden, float* probs) const {
  if (hidden.cols != adapter_dims().width) {
    return Status::InvalidArgument("score: embedded rows have " + std::to_string(hidden.cols) +
                                   " values, the adapter takes " + std::to_string(adapter_dims().width));
  }
  if (hidden.rows == 0) return Status();
  fused::Network net;
  if (FusedHead(*parts_, adapter, &net)) {
    const size_t per_row = outputs_per_row();
    for (size_t first = 0; first < hidden.rows; first += kBlockRows) {
      const size_t n = std::min(kBlockRows, hidden.rows - first);
      fused::Forward(net, hidden.data + first * hidden.cols, n, probs + first * per_row);
    }
    return Status();
  }
  try {
    torch::InferenceMode guard;
    torch::Tensor p = parts_->Probabilities(AdapterForward(adapter.tensors(), BatchTensor(hidden))).contiguous();
    std::memcpy(probs, p.data_ptr<float>(), sizeof(float) * hidden.rows * outputs_per_row());
    return Status();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("score: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
}

Result<std::vector<float>> HealableModel::Score(const AdapterVersion& adapter, BatchView rows) const {
  Result<std::shared_ptr<const CompiledAdapter>> compiled = Compile(adapter);
  if (!compiled.ok()) return compiled.status();
  std::vector<float> probs(rows.rows * outputs_per_row());
  REFLEX_RETURN_IF_ERROR(Score(**compiled, rows, probs.data()));
  return probs;
}

uint64_t HealableModel::FrozenFingerprint() const {
  uint64_t h = Fnv1a64(nullptr, 0);
  for (const torch::Tensor& p : parts_->FrozenParameters()) {
    torch::Tensor c = p.detach().contiguous();
    h = Fnv1a64(c.data_ptr(), c.numel() * c.element_size(), h);
  }
  return h;
}

}  // namespace reflex
