// Trainer: fits the built-in MLP (backbone, adapter and head together) on clean labelled rows,
// then fixes the trained adapter as version 0.
//
// Runs on the calling thread with LibTorch's intra-op threads as configured by the caller.
// Mutates the model: train before sharing it. Deterministic for a given seed on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

struct TrainConfig {
  int epochs = 30;
  int batch_size = 128;
  double lr = 0.01;   // Adam
  // TrainClassifier only: when set, the learning rate follows a cosine from lr down to 0 over
  // all steps of all epochs (per step); otherwise it stays at lr.
  bool cosine_decay = false;
  uint64_t seed = 1;
};

// labels: rows.rows values of 0/1. Only for models made by HealableModel::CreateMlp.
Status TrainMlp(HealableModel& model, BatchView rows, const uint8_t* labels, const TrainConfig& config);

// Multi-class training (cross-entropy) of a model made by CreateImageCnn: backbone and head
// only; the adapter stays at its exact identity (version 0), so version 0 scores exactly like
// the trained network. labels: rows.rows class indices in [0, num_classes). Adam with
// config.lr (0.001 is the usual value for the CNN; with config.cosine_decay it decays to 0 over
// the run), config.epochs passes over the rows.
// `on_epoch` (may be empty) is told each finished epoch and its mean loss.
Status TrainClassifier(HealableModel& model, BatchView rows, const uint8_t* labels, const TrainConfig& config,
                       const std::function<void(int, double)>& on_epoch = {});

}  // namespace reflex
