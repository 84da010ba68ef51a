// HealableModel: frozen backbone -> ReflexiveLayer (the adapter) -> frozen head -> p(positive),
// or, for a K-class model (ModelSpec::num_classes >= 2), -> softmax over K classes.
//
//   y = x + scale * W2 * tanh(W1 * x + b1) + b2        (the adapter; scale initialised to 0.1)
//
// The backbone and head are either the built-in MLP of the original experiment
// (in -> 64 -> 64 ReLU; head 64 -> 1, sigmoid) or TorchScript files exported by
// tools/export_model.py. Only adapter weights ever change after deployment, and they live
// outside the model: each AdapterVersion (core/adapter_version.h) is compiled once into an
// immutable CompiledAdapter, and Score() takes the adapter to use, so a request is scored by
// exactly one version and swapping versions never touches the model.
//
// Ownership: shared (std::shared_ptr<const HealableModel>) by engines, healers and tools.
// Thread-safety: after construction and training, all const methods are safe to call
// concurrently. Training (trainer.h) mutates it and must finish before it is shared.
// Units: rows are float32 feature vectors in the manifest's column order; outputs are
// probabilities in [0, 1]: one per row (binary), or K per row (multi-class, row-major).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "core/status.h"

namespace reflex {

// A read-only row-major batch: rows x cols floats at data. Does not own the memory.
struct BatchView {
  const float* data = nullptr;
  size_t rows = 0;
  size_t cols = 0;
};

struct ModelSpec {
  std::vector<std::string> feature_names;  // input columns, in order
  uint32_t width = 64;                     // backbone output = adapter width
  uint32_t adapter_hidden = 64;            // tanh units inside the adapter
  std::string source;                      // "builtin-mlp", "builtin-cnn" or the manifest path
  uint32_t num_classes = 1;                // 1: binary sigmoid head; K >= 2: softmax head over K classes
  uint32_t image_height = 0, image_width = 0;  // built-in CNN only: rows are height x width pixels
};

// An adapter version turned into tensors once; immutable and shareable between threads.
class CompiledAdapter;

class HealableModel {
 public:
  struct Parts;  // LibTorch internals, defined in model_parts.h (libs/model only)

  // The built-in MLP, randomly initialised from `seed`, adapter at identity (W2 = 0, b2 = 0).
  static Result<std::shared_ptr<HealableModel>> CreateMlp(std::vector<std::string> feature_names,
                                                          uint64_t seed, uint32_t width = 64);
  // A small CNN for grayscale images of height x width pixels (rows of height*width floats in
  // [0, 1]): conv3x3(16) ReLU maxpool2, conv3x3(32) ReLU maxpool2, linear -> `width` ReLU (the
  // penultimate representation the adapter sits on), head linear width -> num_classes (>= 2),
  // softmax. Randomly initialised from `seed`; the adapter is the exact identity (W2 = 0, b2 = 0).
  // Train it with TrainClassifier (trainer.h). Height and width must be multiples of 4.
  static Result<std::shared_ptr<HealableModel>> CreateImageCnn(uint32_t height, uint32_t width_px,
                                                               uint32_t num_classes, uint64_t seed,
                                                               uint32_t width = 128);
  // Backbone and head from TorchScript files named by a manifest written by tools/export_model.py.
  // The manifest's head_kind says what the head gives: "binary" (absent in earlier exports) one
  // logit or probability per row; "softmax" num_classes logits or probabilities per row, a
  // K-class model for K >= 3 and, for K = 2, a binary model whose logit is z1 - z0 (p(positive)
  // is the probability of the second class). Scores equal PyTorch's (probabilities through
  // log/logit and back: within float rounding). The adapter starts at identity. Errors name the
  // file and what is wrong (missing, shape, a head of another width than num_classes).
  static Result<std::shared_ptr<HealableModel>> LoadTorchScript(const std::string& manifest_path);

  ~HealableModel();
  HealableModel(const HealableModel&) = delete;
  HealableModel& operator=(const HealableModel&) = delete;

  const ModelSpec& spec() const;
  size_t input_dims() const { return spec().feature_names.size(); }
  uint32_t num_classes() const { return spec().num_classes; }
  // Probabilities written per row by Score: 1 (binary) or K.
  size_t outputs_per_row() const { return num_classes() >= 2 ? num_classes() : 1; }
  AdapterDims adapter_dims() const;
  // Version 0: the adapter the model was deployed with.
  const AdapterVersion& initial_adapter() const;

  // Fails (InvalidArgument) when dims do not match or Verify() fails.
  Result<std::shared_ptr<const CompiledAdapter>> Compile(const AdapterVersion& adapter) const;
  // Writes rows.rows * outputs_per_row() probabilities to probs. rows.cols must equal input_dims().
  // Built-in parts (MLP backbone, adapter, built-in head) run the fused CBLAS forward
  // (model/fused_forward.h), allocating nothing per call; TorchScript parts run LibTorch.
  Status Score(const CompiledAdapter& adapter, BatchView rows, float* probs) const;
  // Score() with LibTorch for every part: the reference the fused forward is checked against
  // (tests/model, reflex-bench --suite forward). Same contract as Score().
  Status ScoreReference(const CompiledAdapter& adapter, BatchView rows, float* probs) const;
  // The frozen backbone's output (the adapter's input): rows.rows x adapter_dims().width floats.
  // Lets a caller that scores one batch with several adapters run the backbone once.
  Status Embed(BatchView rows, float* hidden) const;
  // Score() from Embed()'s output: hidden.cols must equal adapter_dims().width.
  Status ScoreEmbedded(const CompiledAdapter& adapter, BatchView hidden, float* probs) const;
  Result<std::vector<float>> Score(const AdapterVersion& adapter, BatchView rows) const;
  // A hash of every frozen (backbone and head) parameter's bytes: equal before and after heals.
  uint64_t FrozenFingerprint() const;

  Parts& parts() { return *parts_; }
  const Parts& parts() const { return *parts_; }

 private:
  explicit HealableModel(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace reflex
