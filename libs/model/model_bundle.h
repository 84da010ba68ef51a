// ModelBundle: everything one Reflex process needs to serve and heal a model, kept as a folder
// so that every replica, healer and coordinator of a cluster loads the very same model.
//
//   DIR/manifest.json  {"format": 1, "source": "builtin-mlp" | "torchscript",
//                       "feature_names": [...], "width": W, "seed": S, "monitored": [i, ...],
//                       "label_column": "label", "classes": ["0", "1"], "rules": "rules.txt" | null,
//                       "frozen_fingerprint": "<16 hex digits>",
//                       "torchscript_manifest": "ts/manifest.json" (torchscript only),
//                       "clean_summary": {...} (torchscript only; informational, see below)}
//   DIR/mlp.pt         the built-in MLP's trained backbone and head (LibTorch archive)
//   DIR/adapter0.rfx   version 0, the adapter trained with the model (core/version_file.h)
//   DIR/ts/            a TorchScript export (tools/export_model.py): manifest.json, backbone.pt,
//                      head.pt, copied from the export folder; version 0 is the identity adapter
//   DIR/clean.csv      clean labelled rows: the calibration set (FIDI moments, heal calibration,
//                      the clean class prior); its label column is the manifest's label_column
//                      and holds class names (core/class_csv.h)
//   DIR/rules.txt      the rule file, when the manifest's "rules" names it
//
// Manifest fields added later have defaults, so earlier bundles still load: label_column
// "label", classes "0".."K-1" (binary: "0", "1"), rules "rules.txt" when that file exists and
// none otherwise (rules: null says the bundle has none).
//
// LoadModelBundle checks the pieces against each other: the frozen fingerprint of the loaded
// backbone and head must equal the manifest's (a wrong or damaged mlp.pt is refused), the
// adapter must verify and fit the model, the classes must be as many as the head's, clean.csv
// must have the manifest's columns and classes (core/class_csv.h), and, when the manifest has a
// clean_summary, as many rows as it says. Everything a coordinator, replica or healer needs
// beyond the files (the heal calibration, FIDI's clean moments, the clean class prior) is
// computed from clean.csv at load, the same way for built-in and TorchScript bundles.
//
// Ownership: a loaded bundle shares immutable parts (shared_ptr<const ...>); copy it freely and
// use it from any thread. Units: rows are float32 in feature_names order.
#pragma once

#include <memory>
#include <optional>
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
  std::string label_column = "label";    // clean.csv's label column
  std::vector<std::string> classes;      // class names in the head's output order (binary: 2)
  std::shared_ptr<const HealableModel> model;
  std::shared_ptr<const HealCalibration> calibration;
  std::shared_ptr<const RuleSet> rules;  // never null; empty when the bundle has none
  FidiCalibration fidi;                  // clean moments of the monitored features
  std::vector<size_t> monitored;         // FIDI columns (all when the manifest lists none)
  std::shared_ptr<const LabeledData> clean;  // clean.csv's rows (labels: class indices)
};

// What a TorchScript bundle is made from besides the export (tools/reflex-bundle).
struct TorchScriptBundleInput {
  std::string export_dir;                // holds the export's manifest.json, backbone.pt, head.pt
  LabeledData clean;                     // read with ReadClassCsv against the export (labels: class indices)
  std::string label_column = "label";
  std::vector<std::string> classes;      // the export's class names
  std::optional<std::string> rules_text; // none: the bundle has no rules
  std::vector<size_t> monitored;         // FIDI columns; empty: all
};

// Facts about the clean rows under version 0, written to the manifest's clean_summary and
// printed by reflex-bundle: rows per class, the clean prior, version 0's accuracy, and its score
// distribution (binary: quantiles of p(positive) and the rate above 0.5; K-class: the rate at
// which each class is predicted).
struct CleanSummary {
  size_t rows = 0;
  std::vector<size_t> class_rows;        // per class
  double accuracy = 0;                   // version 0 on the clean rows
  std::vector<double> predicted_rate;    // per class: share of rows version 0 predicts as it
  std::vector<double> score_quantiles;   // binary: p(positive) at 5%, 25%, 50%, 75%, 95%
};

Result<CleanSummary> SummariseClean(const HealableModel& model, const LabeledData& clean);

// Writes a bundle of a TorchScript export: copies the export into DIR/ts/, checks that it loads
// and that the clean rows fit it (feature columns, classes: binary bundles need both classes),
// writes clean.csv, rules.txt (when given) and the manifest with its clean_summary. Creates
// `dir` when missing; files are written atomically. Errors name the file and what is wrong.
Result<CleanSummary> WriteTorchScriptBundle(const std::string& dir, const TorchScriptBundleInput& input);

// Writes a bundle for a built-in MLP that has been trained (HealableModel::CreateMlp +
// TrainMlp). `clean` must have the model's feature columns. Creates `dir` if needed; files
// are written atomically (temporary file + rename). IoError names the file on failure.
Status WriteModelBundle(const std::string& dir, const HealableModel& model, uint64_t seed,
                        const LabeledData& clean, const std::string& rules_text,
                        const std::vector<size_t>& monitored);

// Loads and cross-checks a bundle; errors name the file and what is wrong.
Result<ModelBundle> LoadModelBundle(const std::string& dir);

}  // namespace reflex
