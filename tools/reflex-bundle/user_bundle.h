// UserBundle: a model bundle (model/model_bundle.h) from a user's own model: a TorchScript
// export written by tools/export_model.py plus the user's clean labelled CSV.
//
//   reflex-bundle --model EXPORT_DIR --clean CLEAN.csv --label COLUMN [--rules FILE]
//                 [--monitor COL,...] --out BUNDLE
//
// The clean CSV is checked against the export before anything is written (core/class_csv.h):
// its feature columns must be the export's feature names in the export's order (the message
// names every missing, extra or misplaced column), every label must be one of the head's
// classes (the export's class_names; the message names the value, its line and the classes),
// and every value must be a finite number (the message names the row and column). A binary model
// needs clean rows of both classes. The rules file is optional (binary: rules end in positive or
// negative; K-class: in class NAME). The bundle is then loaded back as every service loads it.
//
// Plain functions; no shared state. Blocking (reads and writes files, loads the model).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "model/model_bundle.h"

namespace reflex::sim {

struct UserBundleOptions {
  std::string export_dir, clean_path, label_column, out_dir;
  std::string rules_path;  // may be empty: no rules
  std::string monitor;     // comma-separated FIDI features; empty: all
};

struct UserBundleReport {
  CleanSummary summary;
  std::vector<std::string> classes;
  std::vector<std::string> features;
  uint32_t width = 0;
  size_t rules = 0;
  std::string head;  // "binary" or "K-class softmax"
};

// The export's class names (its manifest's class_names, else "0".."K-1"; binary: "0", "1").
Result<std::vector<std::string>> ExportClasses(const std::string& export_dir);

Result<UserBundleReport> WriteUserBundle(const UserBundleOptions& options);

// The report as reflex-bundle prints it (several lines, each ending in '\n').
std::string DescribeUserBundle(const UserBundleOptions& options, const UserBundleReport& report);

}  // namespace reflex::sim
