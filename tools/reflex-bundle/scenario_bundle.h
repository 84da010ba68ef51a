// ScenarioBundle: turns a built-in reflex-sim scenario into the files a cluster runs on.
//
//   OUT/model/         the model bundle (model/model_bundle.h): the deployed MLP trained on the
//                      scenario's clean rows, its clean calibration rows and its rules
//   OUT/clean.csv      fresh clean rows (not used in training), to stream before the drift
//   OUT/drift.csv      the scenario's drifted stream, in time order
//   OUT/holdout.csv    drifted rows drawn independently of drift.csv, to measure accuracy on
// Every CSV has the feature columns and a 0/1 `label` column last.
//
// Deterministic in (scenario, seed). Plain functions; no shared state. Blocking (trains a model,
// seconds): call from a tool's main thread or a detached actor.
#pragma once

#include <cstdint>
#include <string>

#include "core/csv.h"
#include "core/status.h"
#include "scenarios.h"

namespace reflex::sim {

struct ScenarioStreams {
  LabeledData clean;    // clean rows to stream first
  LabeledData drift;    // drifted stream
  LabeledData holdout;  // drifted rows for measuring accuracy
};

// Trains the deployed model on `data.train` exactly as reflex-sim's experiment does (the built-in
// MLP seeded with `seed`, TrainMlp with the same seed: the network its frozen arm scores with)
// and writes the bundle to `model_dir` with data.train as the clean calibration rows, the rules
// and the monitored features. Used for built-in scenarios and for a user's CSV (reflex-cluster).
Status WriteTrainedBundle(const ScenarioData& data, uint64_t seed, const std::string& model_dir);

// Trains the scenario's deployed model and writes the bundle to `model_dir`; returns the streams.
Result<ScenarioStreams> BuildScenarioBundle(const std::string& scenario, uint64_t seed, const std::string& model_dir,
                                            size_t clean_rows = 1000, size_t holdout_rows = 2000);

// BuildScenarioBundle into OUT/model plus OUT/clean.csv, OUT/drift.csv, OUT/holdout.csv.
Status WriteScenarioFiles(const std::string& scenario, uint64_t seed, const std::string& out_dir);

}  // namespace reflex::sim
