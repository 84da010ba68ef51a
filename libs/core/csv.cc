#include "core/csv.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "core/csv_line.h"

namespace reflex {

namespace {

constexpr size_t kMaxListedColumns = 20;  // in a "label column not found" message

std::string Where(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}
std::string Where(const std::string& path, size_t line, size_t column) {
  return Where(path, line) + ":" + std::to_string(column);
}

std::string ListColumns(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < kMaxListedColumns; ++i) {
    if (i > 0) list += ", ";
    list += names[i];
  }
  if (names.size() > kMaxListedColumns) {
    list += ", ... (" + std::to_string(names.size()) + " in all)";
  }
  return list;
}

// Parses a feature value; on failure says why, in the words of the messages in csv.h.
Status ParseValue(const std::string& text, const std::string& column, const std::string& where,
                  float* value) {
  if (text.empty()) {
    return Status::InvalidArgument(where + ": empty value in column '" + column + "'");
  }
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') ++first;
  double parsed = 0;
  std::from_chars_result r = std::from_chars(first, last, parsed, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) {
    return Status::InvalidArgument(where + ": value '" + text + "' in column '" + column +
                                   "' is out of range");
  }
  if (r.ec != std::errc() || r.ptr != last) {
    return Status::InvalidArgument(where + ": non-numeric value '" + text + "' in column '" +
                                   column + "'");
  }
  if (std::isnan(parsed)) {
    return Status::InvalidArgument(where + ": NaN in column '" + column + "'");
  }
  if (std::isinf(parsed) || std::abs(parsed) > std::numeric_limits<float>::max()) {
    return Status::InvalidArgument(where + ": value '" + text + "' in column '" + column +
                                   "' is not a finite float");
  }
  *value = static_cast<float>(parsed);
  return Status::Ok();
}

// Checks the header's feature columns (label at header index `label_index` removed) against
// the expected ones; the first difference is reported at its column in the file.
Status CheckExpected(const std::string& path, size_t line, size_t label_index,
                     const std::vector<std::string>& found,
                     const std::vector<std::string>& expected) {
  auto file_column = [&](size_t feature) { return feature < label_index ? feature + 1 : feature + 2; };
  for (size_t i = 0; i < found.size() && i < expected.size(); ++i) {
    if (found[i] != expected[i]) {
      return Status::InvalidArgument(
          Where(path, line, file_column(i)) + ": feature " + std::to_string(i + 1) + " is '" +
          found[i] + "', expected '" + expected[i] +
          "' (feature columns must match the training data, in order)");
    }
  }
  if (found.size() < expected.size()) {
    return Status::InvalidArgument(Where(path, line) + ": " + std::to_string(found.size()) +
                                   " feature columns, expected " + std::to_string(expected.size()) +
                                   "; first missing: '" + expected[found.size()] + "'");
  }
  if (found.size() > expected.size()) {
    return Status::InvalidArgument(
        Where(path, line, file_column(expected.size())) + ": " + std::to_string(found.size()) +
        " feature columns, expected " + std::to_string(expected.size()) + "; first extra: '" +
        found[expected.size()] + "'");
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IoError("cannot read '" + path + "': it is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return Status::IoError("cannot open '" + path + "': " +
                           (error != 0 ? std::strerror(error) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read '" + path + "'");
  return text.str();
}

Result<LabeledData> Read(const std::string& path, const std::string& label_column,
                         const std::vector<std::string>* expected_features) {
  Result<std::string> file = ReadFile(path);
  if (!file.ok()) return file.status();
  std::string_view text = *file;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark

  LabeledData data;
  std::vector<std::string> header, fields;
  size_t label_index = 0, line_number = 0, header_line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (TrimCsvBlanks(line).empty()) continue;

    if (header_line == 0) {  // the header
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
          return Status::InvalidArgument(where + ": duplicate column name '" + header[c] +
                                         "' (also column " + std::to_string(it->second) + ")");
        }
        if (header[c] == label_column) {
          label_index = c;
          found_label = true;
        } else {
          data.feature_names.push_back(header[c]);
        }
      }
      if (!found_label) {
        return Status::InvalidArgument(Where(path, line_number) + ": label column '" +
                                       label_column + "' not found (columns: " +
                                       ListColumns(header) + ")");
      }
      if (data.feature_names.empty()) {
        return Status::InvalidArgument(Where(path, line_number) +
                                       ": no feature columns besides the label '" + label_column +
                                       "'");
      }
      if (expected_features != nullptr) {
        REFLEX_RETURN_IF_ERROR(CheckExpected(path, line_number, label_index, data.feature_names,
                                             *expected_features));
      }
      continue;
    }

    REFLEX_RETURN_IF_ERROR(SplitCsvLine(line, path, line_number, &fields));
    if (fields.size() != header.size()) {
      return Status::InvalidArgument(Where(path, line_number) + ": expected " +
                                     std::to_string(header.size()) + " fields, found " +
                                     std::to_string(fields.size()));
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      const std::string where = Where(path, line_number, c + 1);
      float value = 0;
      if (c != label_index) {
        REFLEX_RETURN_IF_ERROR(ParseValue(fields[c], header[c], where, &value));
        data.features.push_back(value);
      } else if (ParseValue(fields[c], header[c], where, &value).ok() &&
                 (value == 0.0f || value == 1.0f)) {
        data.labels.push_back(static_cast<uint8_t>(value));
      } else {
        return Status::InvalidArgument(where + ": label '" + fields[c] + "' in column '" +
                                       label_column + "' is not 0 or 1");
      }
    }
  }
  if (header_line == 0) return Status::InvalidArgument(path + ": file is empty");
  if (data.labels.empty()) {
    return Status::InvalidArgument(Where(path, header_line + 1) + ": no data rows");
  }
  return data;
}

}  // namespace

Result<LabeledData> ReadLabeledCsv(const std::string& path, const std::string& label_column) {
  return Read(path, label_column, nullptr);
}

Result<LabeledData> ReadLabeledCsv(const std::string& path, const std::string& label_column,
                                   const std::vector<std::string>& expected_features) {
  return Read(path, label_column, &expected_features);
}

Status WriteLabeledCsv(const std::string& path, const LabeledData& data,
                       const std::string& label_column) {
  const size_t rows = data.rows(), dims = data.dims();
  if (data.features.size() != rows * dims) {
    return Status::InvalidArgument("cannot write '" + path + "': " + std::to_string(rows) +
                                   " labels and " + std::to_string(dims) + " features need " +
                                   std::to_string(rows * dims) + " values, found " +
                                   std::to_string(data.features.size()));
  }
  for (size_t c = 0; c < dims; ++c) {
    if (data.feature_names[c] == label_column) {
      return Status::InvalidArgument("cannot write '" + path + "': feature " +
                                     std::to_string(c + 1) + " has the label column's name '" +
                                     label_column + "'");
    }
  }
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    const int error = errno;
    return Status::IoError("cannot open '" + path + "' for writing: " +
                           (error != 0 ? std::strerror(error) : "unknown error"));
  }
  std::string line;
  for (size_t c = 0; c < dims; ++c) line += QuoteCsvField(data.feature_names[c]) + ",";
  line += QuoteCsvField(label_column) + "\n";
  out << line;
  char buffer[32];
  for (size_t r = 0; r < rows; ++r) {
    line.clear();
    for (size_t c = 0; c < dims; ++c) {
      std::to_chars_result res = std::to_chars(buffer, buffer + sizeof(buffer),
                                               data.features[r * dims + c]);
      line.append(buffer, res.ptr);
      line += ',';
    }
    line += data.labels[r] != 0 ? "1\n" : "0\n";
    out << line;
  }
  out.close();
  if (!out) return Status::IoError("cannot write '" + path + "': the write failed");
  return Status::Ok();
}

}  // namespace reflex
