// The drift zoo's report: the summary of its rows (zoo.h), the one results table, and zoo.json.
//
// Summary: per category and overall, the mean and median F1 gap closed of the label-free arm
// and of the labelled arm per budget, over the rows whose gap is defined; and the product's
// "do no harm" checks, each with its count and worst offenders:
//   label-free < frozen - 0.01     in accuracy or F1, per (family, seed): the label-free arm
//                                  does not depend on the label budget, so it is counted once
//   labels < frozen - 0.01         in accuracy or F1, per run (family, seed, budget)
//   labels < label-free - 0.02     in accuracy or F1, per run
// Rows of the "0" budget have no labelled figures and count in neither labelled check.
//
// Plain functions over values; the output is a pure function of the rows (no clocks, no
// locale). Safe from any thread as long as no two calls write the same folder. Rates are
// fractions in [0, 1]; the table shows accuracy as a percentage.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "zoo.h"

namespace reflex::sim {

struct ZooGapStats {
  size_t n = 0;  // rows with a defined gap
  double mean = 0, median = 0;
};

struct ZooCategorySummary {
  size_t scenarios = 0;  // (family, seed) pairs
  ZooGapStats label_free;
  std::map<std::string, ZooGapStats> labels;  // by budget label
};

struct ZooHarm {
  std::string key;      // "offset seed 2 10%/5" (label-free check: "offset seed 2")
  double deficit = 0;   // the larger of the accuracy and F1 shortfalls
  std::string detail;   // "F1 0.512 vs 0.601, accuracy 81.0% vs 84.2%"
};

struct ZooHarmCheck {
  std::string name;     // "label-free < frozen - 0.01"
  size_t count = 0, of = 0;
  std::vector<ZooHarm> worst;  // at most kZooWorstShown, worst first
};

constexpr size_t kZooWorstShown = 5;

struct ZooSummary {
  std::vector<std::string> budgets;  // labels of the budgets with labels, in run order
  std::map<std::string, ZooCategorySummary> categories;
  ZooCategorySummary overall;
  ZooHarmCheck label_free_below_frozen, labels_below_frozen, labels_below_label_free;
};

ZooSummary SummariseZoo(const std::vector<ZooRow>& rows);

// The table (one line per row), its notes, then the summary and the do-no-harm checks.
void PrintZoo(std::ostream& out, const ZooOptions& options, const std::vector<ZooRow>& rows, const ZooSummary& summary);

// {"budgets", "families", "seeds", "shape", "rows": [...], "summary": {...}}; keys sorted, ends
// with a newline. A row: family, category, seed, budget, label_fraction, label_delay, drift, note,
// frozen/label_free/labels/oracle ({f1, accuracy, heals, rollbacks}; labels null for budget "0"),
// gap_closed_label_free and gap_closed_labels (null when undefined).
std::string ZooJson(const ZooOptions& options, const std::vector<ZooRow>& rows, const ZooSummary& summary);

// One row as zoo.json writes it, and back (the worker processes of zoo_workers.h send rows so).
// ZooRowFromJson: InvalidArgument naming the missing or mistyped field.
nlohmann::json ZooRowToJson(const ZooRow& row);
Result<ZooRow> ZooRowFromJson(const nlohmann::json& json);

// Creates `dir` when missing and writes zoo.json atomically. IoError naming the path.
Status WriteZooJson(const std::string& dir, const ZooOptions& options, const std::vector<ZooRow>& rows,
                    const ZooSummary& summary);

}  // namespace reflex::sim
