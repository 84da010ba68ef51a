// ModelBundle: everything one Reflex process needs to serve and heal a model, kept as a folder
// so that every replica, healer and coordinator of a cluster loads the very same model.
//
//   DIR/manifest.json  {"format": 1, "source": "builtin-mlp" | "torchscript",
//                       "feature_names": [...], "width": W, "seed": S, "monitored": [i, ...],
//                       "label_column": "label", "frozen_fingerprint": "<16 hex digits>",
//                       "torchscript_manifest": "ts/manifest.json" (torchscript only)}
//   DIR/mlp.pt         the built-in MLP's trained backbone and head (LibTorch archive)
//   DIR/adapter0.rfx   version 0, the adapter trained with the model (core/version_file.h)
//   DIR/clean.csv      clean labelled rows: the calibration set (FIDI moments, heal calibration)
//   DIR/rules.txt      the rule file (may be empty)
//
// LoadModelBundle checks the pieces against each other: the frozen fingerprint of the loaded
// backbone and head must equal the manifest's (a wrong or damaged mlp.pt is refused), the
// adapter must verify and fit the model, and clean.csv must have the manifest's columns.
//
// Ownership: a loaded bundle shares immutable parts (shared_ptr<const ...>); copy it freely and
// use it from any thread. Units: rows are float32 in feature_names order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/csv.h"
#include "core/fidi.h"
#include "core/rules.h"
#include "core/status.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"

namespace reflex {

struct ModelBundle {
  std::string dir;
  std::shared_ptr<const HealableModel> model;
  std::shared_ptr<const HealCalibration> calibration;
  std::shared_ptr<const RuleSet> rules;  // never null; empty when the bundle has none
  FidiCalibration fidi;                  // clean moments of the monitored features
  std::vector<size_t> monitored;         // FIDI columns (all when the manifest lists none)
};

// Writes a bundle for a built-in MLP that has been trained (HealableModel::CreateMlp +
// TrainMlp). `clean` must have the model's feature columns. Creates `dir` if needed; files
// are written atomically (temporary file + rename). IoError names the file on failure.
Status WriteModelBundle(const std::string& dir, const HealableModel& model, uint64_t seed,
                        const LabeledData& clean, const std::string& rules_text,
                        const std::vector<size_t>& monitored);

// Loads and cross-checks a bundle; errors name the file and what is wrong.
Result<ModelBundle> LoadModelBundle(const std::string& dir);

}  // namespace reflex
