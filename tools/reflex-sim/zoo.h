// The drift zoo runner (`reflex-sim --zoo`): every family x seed x label budget of
// zoo_scenarios.h through one RunExperiment each (frozen, healed_labels, healed_label_free and
// oracle side by side), reduced to one ZooRow per run. zoo_report.h summarises and prints them.
//
// A label budget is a label fraction and a delay in batches, written "10%/5" (10% of each batch's
// rows, labelled 5 batches late); "0" is the label-free arm only (the labelled arm gets no labels
// and its figures are not reported). Gap closed is on F1: (arm - frozen) / (oracle - frozen),
// undefined when oracle - frozen < kMinOracleGain.
//
// RunZoo runs one experiment after another on the calling thread (jobs = 1; it sets LibTorch's
// intra-op threads process-wide to `threads`, model/compute_threads.h), or hands them to `jobs`
// forked worker processes (zoo_workers.h). Every experiment is self-contained and seeds its own
// generators, so the rows do not depend on `jobs`. `log`, when set, gets one progress line per
// experiment. Deterministic in the options apart from those progress lines' timings.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/heal_policy.h"
#include "core/status.h"
#include "zoo_scenarios.h"

namespace reflex::sim {

// Below this F1 gain of the oracle over the frozen model a gap closed is meaningless.
constexpr double kMinOracleGain = 0.02;

struct LabelBudget {
  double fraction = 0.1;  // of each batch's rows, in [0, 1]; 0: label-free arm only
  int delay = 5;          // batches
  std::string Label() const;  // "10%/5", or "0"
};

// (10%, 5) and (100%, 0).
std::vector<LabelBudget> DefaultZooBudgets();
// {1%, 10%, 100%} x {0, 5, 20} batches.
std::vector<LabelBudget> AllZooBudgets();
// "default", "all", or comma-separated budgets like "1%/20,100%/0,0" (a fraction may also be
// written 0.1; a missing delay is 0). InvalidArgument naming the bad item.
Result<std::vector<LabelBudget>> ParseBudgets(const std::string& text);

struct ZooArmFigures {
  double f1 = 0, accuracy = 0;  // over the whole stream, prequential
  int heals = 0, rollbacks = 0;
};

struct ZooRow {
  std::string family, category, drift, note;
  uint64_t seed = 0;
  LabelBudget budget;
  bool has_labels = true;  // false for the "0" budget: `labels` is not reported
  ZooArmFigures frozen, label_free, labels, oracle;
  std::optional<double> gap_label_free, gap_labels;  // F1 gap closed, when defined
  std::string Key() const;  // "offset seed 2 10%/5"
};

// F1 gap closed by `arm`, or nothing when the oracle gains less than kMinOracleGain.
std::optional<double> GapClosed(double arm_f1, double frozen_f1, double oracle_f1);

struct ZooOptions {
  std::vector<std::string> families;  // empty: every family
  int seeds = 3;                      // seeds 1..seeds
  std::vector<LabelBudget> budgets = DefaultZooBudgets();
  ZooShape shape;
  HealPolicy policy;  // every healed arm's policy (reflex-sim --policy KEY=VALUE overrides the defaults)
  int threads = 1;  // LibTorch intra-op threads per process (one: deterministic, and fastest on a busy machine)
  int jobs = 1;     // worker processes running experiments at once (zoo_workers.h); 1: this process
  std::ostream* log = nullptr;
};

// One run of the zoo: a family, a seed and a budget.
struct ZooUnit {
  std::string family;
  uint64_t seed = 1;
  LabelBudget budget;
};

// The runs of `options`, in the order family, seed, budget. InvalidArgument for an unknown
// family, no seed or no budget.
Result<std::vector<ZooUnit>> ZooUnits(const ZooOptions& options);

// Generates the unit's scenario (options.shape) and runs its experiment under options.policy on
// the calling thread; with options.log,
// writes one progress line "zoo [index + 1/total] <key>: ..." (with wall and CPU seconds).
Result<ZooRow> RunZooUnit(const ZooUnit& unit, const ZooOptions& options, size_t index, size_t total);

// The options of `--zoo-quick`: offset and label_up, seed 1, 10%/5, QuickZooShape().
ZooOptions QuickZooOptions();

// Rows in the order family, seed, budget. InvalidArgument for an unknown family or a bad
// budget; any experiment's failure, with the scenario named.
Result<std::vector<ZooRow>> RunZoo(const ZooOptions& options);

}  // namespace reflex::sim
