// Labelled CSV files: the user's training and stream data as a float feature matrix plus a
// 0/1 label per row.
//
// Format: a header row of column names, then one row per line, fields separated by ','.
// Fields may be surrounded by spaces and may be quoted ("V1", with "" for a quote inside);
// a quoted field cannot span lines. CRLF line endings, a UTF-8 byte order mark and blank lines
// are accepted. Every non-label column must hold finite numbers that fit a float; the label
// column must hold 0 or 1 (any spelling of those numbers, e.g. "1.0").
//
// Errors are InvalidArgument (IoError when the file cannot be read or written) and name the
// file, the 1-based line and, where there is one, the 1-based column:
//   "stream.csv:17:3: non-numeric value 'abc' in column 'V3'"
//   "train.csv:1: label column 'Class' not found (columns: Time, V1, ...)"
//
// A file meant for a given model (its feature names in order, its classes, which may be named or
// more than two) is read with core/class_csv.h instead.
//
// Ownership: LabeledData is a plain value owning its vectors. Thread-safety: the functions
// share no state. Units: feature values as written in the file, converted to float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace reflex {

struct LabeledData {
  std::vector<std::string> feature_names;  // header order, label column removed
  std::vector<float> features;             // row-major rows() x dims()
  std::vector<uint8_t> labels;             // 0/1, one per row

  size_t rows() const { return labels.size(); }
  size_t dims() const { return feature_names.size(); }
};

// Reads `path`, taking `label_column` as the label and every other column as a feature.
Result<LabeledData> ReadLabeledCsv(const std::string& path, const std::string& label_column);

// Same, but the feature columns must equal `expected_features` in order (a stream file must
// match its training file); the error names the first mismatch.
Result<LabeledData> ReadLabeledCsv(const std::string& path, const std::string& label_column,
                                   const std::vector<std::string>& expected_features);

// Writes `data` with a header; the label column comes last. Values are written in the
// shortest form that reads back as the same float. InvalidArgument when `data` is
// inconsistent (sizes, a feature named like the label); IoError when the file cannot be written.
Status WriteLabeledCsv(const std::string& path, const LabeledData& data,
                       const std::string& label_column);

}  // namespace reflex
