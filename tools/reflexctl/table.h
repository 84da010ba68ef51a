// Table: a plain-text table for reflexctl's human output (left-aligned columns, two spaces
// apart, a header row in capitals as given). Cells are text; an empty cell prints as "-".
// A value type; not synchronised. Widths count bytes (the cells are ASCII ids and numbers).
#pragma once

#include <string>
#include <vector>

namespace reflex::reflexctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row with fewer cells than headers is padded with "-"; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // The header line and one line per row, each ending in '\n'. Trailing blanks are trimmed.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace reflex::reflexctl
