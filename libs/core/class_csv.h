// ClassCsv: a user's labelled CSV read against a model it is meant for: the file's feature
// columns must be the model's feature names in the model's order, and every label must be one
// of the model's classes. Used for a bundle's clean rows (reflex-bundle --clean, the bundle's
// clean.csv) and for streams scored with a bundle (reflex-sim --model, reflex-cluster --bundle).
//
// Syntax as in csv.h (header row, ',' separated, quoting, CRLF, BOM, blank lines). Checks, each
// reported as InvalidArgument naming the file, the 1-based line and, where there is one, the
// 1-based column, and saying what was found and what the model wants:
//   - the label column exists:      "clean.csv:1: label column 'failed' not found (columns: ...)"
//   - the feature columns equal the model's feature names, in order: every missing name, every
//     extra name, or, when only the order differs, every misplaced column:
//       "clean.csv:1: the columns differ from the model's features: missing 'rpm'; extra 'rpm2'
//        (the model takes temp, vibration, pressure, rpm, current, in that order)"
//       "clean.csv:1: the feature columns are in another order than the model's: 'pressure' is
//        column 2 but the model's feature 3, 'vibration' is column 3 but feature 2 (...)"
//   - every feature value is a finite number:
//       "clean.csv:12:3: NaN in column 'pressure' (data row 11)"
//   - every label is one of the model's classes, by name, or by numeric value when a class name
//     is a number ("1.0" is class "1"):
//       "clean.csv:5:6: label 'yes' in column 'failed' (data row 4) is not one of the model's
//        classes: 0, 1"
//     A non-integer numeric label adds that it looks like a regression target.
//   - rows have as many fields as the header; there is at least one data row.
//
// Ownership: returns a plain LabeledData whose labels are class indices (0..K-1, the order of
// `classes`). Thread-safety: pure functions. Units: feature values as written, as float.
#pragma once

#include <string>
#include <vector>

#include "core/csv.h"
#include "core/status.h"

namespace reflex {

struct ClassCsvSpec {
  std::vector<std::string> features;  // the model's input columns, in order
  std::string label_column;
  std::vector<std::string> classes;   // the model's classes in output order (binary: 2); at most 256
};

Result<LabeledData> ReadClassCsv(const std::string& path, const ClassCsvSpec& spec);

// `data` as CSV text that ReadClassCsv reads back unchanged: the feature columns, then the label
// column holding each row's class name. InvalidArgument when sizes disagree, a label is not a
// class index, or a feature is named like the label column.
Result<std::string> ClassCsvText(const LabeledData& data, const std::string& label_column,
                                 const std::vector<std::string>& classes);

// The class index of a label cell (see above), or -1 when it names none of `classes`.
int MatchClass(const std::string& cell, const std::vector<std::string>& classes);

}  // namespace reflex
