// The prequential experiment: streams a scenario's batches through the arms side by side.
//
// Each batch is first scored by every arm with the adapter version it holds *before* seeing the
// batch; only then may the batch update drift statistics, deliver labels and trigger heals.
//   frozen             never heals
//   healed_labels      labels of batch b arrive at b + label_delay for a random label_fraction of rows
//   healed_label_free  never sees a stream label
//   oracle             a fresh model trained on labelled drifted rows (built-in scenarios only)
// The deployed model is the built-in MLP trained on the clean data, or the one given in the
// options (a user's own network from a bundle).
// Heals run synchronously between batches so that the same seed gives the same output; the
// serving engine (model/serving_engine.h) shows the asynchronous path.
// Single-threaded; owns every model it trains.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/heal_policy.h"
#include "model/healable_model.h"
#include "scenarios.h"
#include "sim_result.h"

namespace reflex::sim {

struct ExperimentOptions {
  uint64_t seed = 1;
  int label_delay = 0;          // batches
  double label_fraction = 1.0;  // of each batch's rows
  HealPolicy policy;            // both healed arms start from it
  std::optional<double> cost_fp, cost_fn;
  // The deployed model (a user's bundle, reflex-sim --model): every arm runs this network, the
  // frozen arm at version 0, and data.train is its clean calibration data. Null: the built-in MLP
  // is trained on data.train with `seed`. Binary models only (InvalidArgument otherwise).
  std::shared_ptr<const HealableModel> deployed;
};

Result<SimResult> RunExperiment(const ScenarioData& data, const ExperimentOptions& options);

}  // namespace reflex::sim
