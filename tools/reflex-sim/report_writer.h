// Writers of reflex-sim's outputs: the plain-text results table and the files of one run
// (summary.json, metrics.csv, events.json, report.html).
//
// Every function reads a SimResult and returns or writes a copy of its contents; none keeps a
// reference. The output is a pure function of the input: identical results give identical
// bytes (no clocks, no locale, no pointer order). Plain functions, safe from any thread as long
// as no two calls write the same folder. Rates in the SimResult are fractions in [0, 1]; the
// table and the page show accuracy as a percentage and costs per 1,000 rows.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "reflex-sim/report_html.h"
#include "reflex-sim/sim_result.h"

namespace reflex::sim {

// Prints the results table to `out`: a header line ("<result.tool>  scenario=...  seed=...  batches=
// K x N rows"), one row per arm of `arm_order`, then the published figures (when set) and the
// notes. Plain text, aligned columns, at most 120 columns wide: the "labels used" cell wraps
// onto further lines when the row would be wider.
void PrintTable(std::ostream& out, const SimResult& result);

// Creates `dir` (and its parents) when missing and writes summary.json, metrics.csv,
// events.json and report.html into it, each atomically. IoError naming the path and the reason
// when the folder cannot be created or a file cannot be written.
Status WriteOutputs(const std::string& dir, const SimResult& result);

// summary.json: scenario, seed, batch size, batch count, FIDI threshold, arm order, per-arm totals
// ("arms": {name: {accuracy, precision, recall, f1, tp, fp, tn, fn, heal_events, rejections,
// rollbacks, final_version, labels_used, [cost_per_1000], [bayes_frontier_f1]}}), "published"
// and "cost_fp"/"cost_fn" when set, and the notes. Keys sorted; ends with a newline.
std::string SummaryJson(const SimResult& result);

// The pieces SummaryJson and EventsJson are made of, for tools that write the same schema with
// keys of their own added (reflex-cluster): one arm's totals as they appear under "arms", the
// whole summary.json object, and the whole events.json object.
nlohmann::json ArmSummaryJson(const ArmSummary& arm);
nlohmann::json SummaryValue(const SimResult& result);
nlohmann::json EventsValue(const SimResult& result);

// metrics.csv: "batch,fidi_z,drift,conflicts" then "<arm>_accuracy,<arm>_f1,<arm>_version,
// <arm>_action" for each arm of `arm_order`; one row per batch. Cells of an arm absent from a
// batch are empty; text cells are quoted (RFC 4180) when they hold a comma, quote or newline.
std::string MetricsCsv(const SimResult& result);

// events.json: {"events": [{batch, arm, kind, version, from_version, reason, details}, ...]} in
// the order of `result.events`. Ends with a newline.
std::string EventsJson(const SimResult& result);

// The results table as cells, shared by PrintTable and ReportHtml so both show the same
// columns. `numeric[i]` says whether column i is a number (right-aligned).
struct SummaryTable {
  std::vector<std::string> header;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;  // one per arm of arm_order, cells as printed
};
SummaryTable BuildSummaryTable(const SimResult& result);

// The lines printed under the table: the published figures and the Bayes ceiling (when set),
// then each note.
std::vector<std::string> TableFootnotes(const SimResult& result);

}  // namespace reflex::sim
