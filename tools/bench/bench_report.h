// BenchReport: the figures one reflex-bench run measured, printed as a table and written as
// DIR/bench.json: an array with one object per figure,
//   {"suite": "serve", "name": "serve_p99_us", "value": 812.5, "unit": "us",
//    "params": {"rate_rps": 20000, "rows_per_request": 1, "batching": true}}.
// A figure that could not be measured is not invented: the suite adds a note instead, printed
// and written to DIR/notes.txt (bench.json stays a plain array of figures).
//
// Ownership: a plain value filled by the suites on the main thread. Units are strings chosen by
// the suite ("rows/s", "us", "ms", "MiB", "ratio", ...).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace reflex::bench {

struct Figure {
  std::string suite;
  std::string name;
  double value = 0;
  std::string unit;
  nlohmann::json params = nlohmann::json::object();
};

class BenchReport {
 public:
  // Adds one figure of the suite now running (SetSuite) and prints it as a table row at once,
  // so a long run shows progress.
  void Add(const std::string& name, double value, const std::string& unit, nlohmann::json params = nlohmann::json::object());
  void Note(const std::string& line);  // printed now and kept for notes.txt
  void SetSuite(const std::string& suite);

  const std::vector<Figure>& figures() const { return figures_; }
  const std::vector<std::string>& notes() const { return notes_; }
  nlohmann::json ToJson() const;
  // DIR/bench.json (and DIR/notes.txt when there are notes); creates DIR.
  Status Write(const std::string& dir) const;

 private:
  std::string suite_;
  std::vector<Figure> figures_;
  std::vector<std::string> notes_;
};

// "rate_rps=20000 rows=1" from a params object (for the table).
std::string FormatParams(const nlohmann::json& params);

}  // namespace reflex::bench
