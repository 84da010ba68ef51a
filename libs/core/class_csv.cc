#include "core/class_csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "core/csv_line.h"

namespace reflex {
namespace {

constexpr size_t kMaxListed = 20;  // names in a list of columns or classes

std::string Where(const std::string& path, size_t line) { return path + ":" + std::to_string(line); }
std::string Where(const std::string& path, size_t line, size_t column) {
  return Where(path, line) + ":" + std::to_string(column);
}

std::string List(const std::vector<std::string>& names, bool quoted = false) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i) {
    if (i > 0) out += ", ";
    out += quoted ? "'" + names[i] + "'" : names[i];
  }
  if (names.size() > kMaxListed) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

// A finite number that fits a float, or nothing.
std::optional<double> Number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') ++first;
  double v = 0;
  const std::from_chars_result r = std::from_chars(first, last, v, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != last || !std::isfinite(v)) return std::nullopt;
  return v;
}

Status ParseFeature(const std::string& text, const std::string& column, const std::string& where, size_t data_row,
                    float* value) {
  const std::string row = " (data row " + std::to_string(data_row) + ")";
  if (text.empty()) return Status::InvalidArgument(where + ": empty value in column '" + column + "'" + row);
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') ++first;
  double parsed = 0;
  const std::from_chars_result r = std::from_chars(first, last, parsed, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) {
    return Status::InvalidArgument(where + ": value '" + text + "' in column '" + column + "' is out of range" + row);
  }
  if (r.ec != std::errc() || r.ptr != last) {
    return Status::InvalidArgument(where + ": non-numeric value '" + text + "' in column '" + column + "'" + row);
  }
  if (std::isnan(parsed)) return Status::InvalidArgument(where + ": NaN in column '" + column + "'" + row);
  if (std::isinf(parsed) || std::abs(parsed) > std::numeric_limits<float>::max()) {
    return Status::InvalidArgument(where + ": value '" + text + "' in column '" + column + "' is not a finite float" + row);
  }
  *value = static_cast<float>(parsed);
  return Status::Ok();
}

// The header's feature columns against the model's: all missing and extra names, else every
// column out of place.
Status CheckColumns(const std::string& path, size_t line, const std::vector<std::string>& header, size_t label_index,
                    const std::vector<std::string>& found, const std::vector<std::string>& expected) {
  if (found == expected) return Status::Ok();
  const std::string wants = " (the model takes " + List(expected) + ", in that order)";
  const std::unordered_set<std::string> have(found.begin(), found.end()), want(expected.begin(), expected.end());
  std::vector<std::string> missing, extra;
  for (const std::string& e : expected) {
    if (!have.count(e)) missing.push_back(e);
  }
  for (const std::string& f : found) {
    if (!want.count(f)) extra.push_back(f);
  }
  if (!missing.empty() || !extra.empty()) {
    std::string what;
    if (!missing.empty()) what += "missing " + List(missing, true);
    if (!extra.empty()) what += std::string(what.empty() ? "" : "; ") + "extra " + List(extra, true);
    return Status::InvalidArgument(Where(path, line) + ": the columns differ from the model's features: " + what + wants);
  }
  std::unordered_map<std::string, size_t> feature_of;
  for (size_t i = 0; i < expected.size(); ++i) feature_of[expected[i]] = i + 1;
  std::vector<std::string> misplaced;
  size_t first_column = 0;
  for (size_t c = 0, f = 0; c < header.size(); ++c) {
    if (c == label_index) continue;
    ++f;
    const size_t should = feature_of[header[c]];
    if (should != f) {
      if (first_column == 0) first_column = c + 1;
      misplaced.push_back("'" + header[c] + "' is column " + std::to_string(c + 1) + " but the model's feature " +
                          std::to_string(should));
    }
  }
  return Status::InvalidArgument(Where(path, line, first_column) +
                                 ": the feature columns are in another order than the model's: " + List(misplaced) +
                                 wants);
}

Result<std::string> ReadText(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return Status::IoError("cannot read '" + path + "': it is a directory");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return Status::IoError("cannot open '" + path + "': " + (error != 0 ? std::strerror(error) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read '" + path + "'");
  return text.str();
}

}  // namespace

int MatchClass(const std::string& cell, const std::vector<std::string>& classes) {
  for (size_t k = 0; k < classes.size(); ++k) {
    if (cell == classes[k]) return static_cast<int>(k);
  }
  const std::optional<double> v = Number(cell);
  if (!v) return -1;
  for (size_t k = 0; k < classes.size(); ++k) {
    const std::optional<double> name = Number(classes[k]);
    if (name && *name == *v) return static_cast<int>(k);
  }
  return -1;
}

Result<std::string> ClassCsvText(const LabeledData& data, const std::string& label_column,
                                 const std::vector<std::string>& classes) {
  const size_t rows = data.rows(), dims = data.dims();
  if (data.features.size() != rows * dims) {
    return Status::InvalidArgument("class CSV: " + std::to_string(rows) + " labels and " + std::to_string(dims) +
                                   " features need " + std::to_string(rows * dims) + " values, found " +
                                   std::to_string(data.features.size()));
  }
  std::string out;
  for (size_t c = 0; c < dims; ++c) {
    if (data.feature_names[c] == label_column) {
      return Status::InvalidArgument("class CSV: feature " + std::to_string(c + 1) + " has the label column's name '" +
                                     label_column + "'");
    }
    out += QuoteCsvField(data.feature_names[c]) + ",";
  }
  out += QuoteCsvField(label_column) + "\n";
  char buffer[32];
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < dims; ++c) {
      const std::to_chars_result res = std::to_chars(buffer, buffer + sizeof(buffer), data.features[r * dims + c]);
      out.append(buffer, res.ptr);
      out += ',';
    }
    if (data.labels[r] >= classes.size()) {
      return Status::InvalidArgument("class CSV: row " + std::to_string(r + 1) + " has class index " +
                                     std::to_string(data.labels[r]) + " of " + std::to_string(classes.size()) + " classes");
    }
    out += QuoteCsvField(classes[data.labels[r]]) + "\n";
  }
  return out;
}

Result<LabeledData> ReadClassCsv(const std::string& path, const ClassCsvSpec& spec) {
  if (spec.features.empty()) return Status::InvalidArgument("ReadClassCsv: the model has no feature names");
  if (spec.classes.size() < 2 || spec.classes.size() > 256) {
    return Status::InvalidArgument("ReadClassCsv: the model needs 2..256 classes, has " + std::to_string(spec.classes.size()));
  }
  Result<std::string> file = ReadText(path);
  if (!file.ok()) return file.status();
  std::string_view text = *file;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  LabeledData data;
  std::vector<std::string> header, fields;
  size_t label_index = 0, line_number = 0, header_line = 0, data_rows = 0;
  const std::string class_list = List(spec.classes);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (TrimCsvBlanks(line).empty()) continue;

    if (header_line == 0) {
      header_line = line_number;
      REFLEX_RETURN_IF_ERROR(SplitCsvLine(line, path, line_number, &header));
      std::unordered_map<std::string, size_t> seen;
      bool found_label = false;
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string where = Where(path, line_number, c + 1);
        if (header[c].empty()) {
          return Status::InvalidArgument(where + ": column " + std::to_string(c + 1) +
                                         " has no name (an index column? write without it)");
        }
        auto [it, inserted] = seen.emplace(header[c], c + 1);
        if (!inserted) {
          return Status::InvalidArgument(where + ": duplicate column name '" + header[c] + "' (also column " +
                                         std::to_string(it->second) + ")");
        }
        if (header[c] == spec.label_column) {
          label_index = c;
          found_label = true;
        } else {
          data.feature_names.push_back(header[c]);
        }
      }
      if (!found_label) {
        return Status::InvalidArgument(Where(path, line_number) + ": label column '" + spec.label_column +
                                       "' not found (columns: " + List(header) + ")");
      }
      REFLEX_RETURN_IF_ERROR(CheckColumns(path, line_number, header, label_index, data.feature_names, spec.features));
      continue;
    }

    REFLEX_RETURN_IF_ERROR(SplitCsvLine(line, path, line_number, &fields));
    ++data_rows;
    if (fields.size() != header.size()) {
      return Status::InvalidArgument(Where(path, line_number) + ": expected " + std::to_string(header.size()) +
                                     " fields, found " + std::to_string(fields.size()) + " (data row " +
                                     std::to_string(data_rows) + ")");
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      const std::string where = Where(path, line_number, c + 1);
      if (c != label_index) {
        float value = 0;
        REFLEX_RETURN_IF_ERROR(ParseFeature(fields[c], header[c], where, data_rows, &value));
        data.features.push_back(value);
        continue;
      }
      const int k = MatchClass(fields[c], spec.classes);
      if (k < 0) {
        std::string hint;
        const std::optional<double> v = Number(fields[c]);
        if (v && *v != std::floor(*v)) {
          hint = "; a fractional label looks like a regression target, and Reflex heals classifiers only";
        }
        return Status::InvalidArgument(where + ": label '" + fields[c] + "' in column '" + spec.label_column +
                                       "' (data row " + std::to_string(data_rows) +
                                       ") is not one of the model's classes: " + class_list + hint);
      }
      data.labels.push_back(static_cast<uint8_t>(k));
    }
  }
  if (header_line == 0) return Status::InvalidArgument(path + ": file is empty");
  if (data.labels.empty()) return Status::InvalidArgument(Where(path, header_line + 1) + ": no data rows");
  return data;
}

}  // namespace reflex
