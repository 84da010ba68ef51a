#include "core/csv_line.h"

namespace reflex {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

Status FieldError(const std::string& path, size_t line_number, size_t field,
                  const std::string& what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line_number) + ":" +
                                 std::to_string(field) + ": " + what);
}

}  // namespace

std::string_view TrimCsvBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

Status SplitCsvLine(std::string_view line, const std::string& path, size_t line_number,
                    std::vector<std::string>* fields) {
  size_t count = 0;
  size_t i = 0;
  while (true) {
    if (fields->size() <= count) fields->emplace_back();
    std::string& field = (*fields)[count++];
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i < line.size() && line[i] == '"') {
      field.clear();
      size_t j = i + 1;
      while (true) {
        if (j >= line.size()) {
          return FieldError(path, line_number, count,
                            "unterminated quote (quoted fields cannot span lines)");
        }
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            field.push_back('"');
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        field.push_back(line[j++]);
      }
      while (j < line.size() && IsBlank(line[j])) ++j;
      if (j < line.size() && line[j] != ',') {
        return FieldError(path, line_number, count, "unexpected text after a closing quote");
      }
      i = j;
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      field.assign(TrimCsvBlanks(line.substr(i, end - i)));
      i = end;
    }
    if (i >= line.size()) break;
    ++i;  // the ','
  }
  fields->resize(count);
  return Status::Ok();
}

std::string QuoteCsvField(const std::string& field) {
  const bool needs = field.empty() || field.find_first_of(",\"\r\n") != std::string::npos ||
                     IsBlank(field.front()) || IsBlank(field.back());
  if (!needs) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace reflex
