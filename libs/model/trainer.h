// Trainer: fits the built-in MLP (backbone, adapter and head together) on clean labelled rows,
// then fixes the trained adapter as version 0.
//
// Runs on the calling thread with LibTorch's intra-op threads as configured by the caller.
// Mutates the model: train before sharing it. Deterministic for a given seed on one thread.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

struct TrainConfig {
  int epochs = 30;
  int batch_size = 128;
  double lr = 0.01;   // Adam
  uint64_t seed = 1;
};

// labels: rows.rows values of 0/1. Only for models made by HealableModel::CreateMlp.
Status TrainMlp(HealableModel& model, BatchView rows, const uint8_t* labels, const TrainConfig& config);

}  // namespace reflex
