// LoadUserData: a user's CSV files as the data set reflex-sim streams (its --train/--stream mode),
// shared with reflex-cluster's CSV mode so both tools read the same rows the same way.
// LoadBundleStream: the same for a user's own model (reflex-sim --model, reflex-cluster --bundle):
// the bundle's clean rows, rules and monitored features, and a stream read against the bundle.
//
// Plain function; no shared state. Reads files (blocking). Errors name the file (and, from the
// CSV reader, its line and column): InvalidArgument for bad content, IoError when unreadable.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "model/model_bundle.h"
#include "scenarios.h"

namespace reflex::sim {

// "a,,b" -> {"a", "b"}: the comma-separated lists of the command lines (empty items dropped).
std::vector<std::string> SplitCommas(const std::string& text);

// TRAIN and STREAM with a header row and a 0/1 `label` column; STREAM's feature columns must
// equal TRAIN's. `rules_path` (may be empty) is parsed against TRAIN's columns; `monitor` is a
// comma-separated list of FIDI features (empty: all). The stream must hold one batch at least.
Result<ScenarioData> LoadUserData(const std::string& train_path, const std::string& stream_path,
                                  const std::string& label, const std::string& rules_path,
                                  const std::string& monitor, size_t batch_size);

// The data set of a bundle's model: train = the bundle's clean rows (its calibration data),
// rules and monitored features from the bundle, and STREAM read with core/class_csv.h against
// the bundle (its feature columns in the model's order, `label` holding the model's classes;
// errors name the file, line and column, and every missing, extra or misplaced column). The
// stream must hold one batch at least.
Result<ScenarioData> LoadBundleStream(const ModelBundle& bundle, const std::string& stream_path,
                                      const std::string& label, size_t batch_size);

}  // namespace reflex::sim
