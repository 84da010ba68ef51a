// PairedOutcome: what one adapter version and version 0 (the deployed model, scored in shadow)
// did on the same labelled rows, and the one test that says whether the version is worse than,
// or better than, version 0 on them.
//
// Health is always judged against version 0 on the same rows: a fixed baseline taken from the
// version's own first labels (the cluster's old rule) lets a version that serves at F1 0 from the
// start look healthy forever, and comparing different rows mixes the version's quality with the
// rows' difficulty.
//
// Accuracy is compared by McNemar's test on the discordant rows (rows only one of the two got
// right), which is exact for paired binary outcomes and needs no tuned margin: a version is worse
// when b - c is significantly negative at the one-sided `z` bound. F1 (binary models only) is
// compared by its paired difference and the delta-method standard error over the joint counts:
// worse when even its upper bound lies more than f1_drop below version 0's (a version may trade a
// little F1 for much accuracy; it may not lose F1 beyond what the noise and that margin allow).
//
// Ownership: plain values. Thread-safety: none. Units: counts are rows; z in standard errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metrics.h"

namespace reflex::control {

struct PairedOutcome {
  // Joint counts: cell[truth][served predicted positive][anchor predicted positive]. Multi-class
  // rows count "right" as positive and have truth 1.
  uint64_t cell[2][2][2] = {};

  // The same counts flattened at index truth * 4 + served * 2 + anchor: the wire's label_cells
  // (DriftSummary, PROTOCOL.md). FromCells needs exactly 8 values (else an empty outcome).
  static PairedOutcome FromCells(const std::vector<uint64_t>& cells);
  std::vector<uint64_t> ToCells() const;

  void Merge(const PairedOutcome& other);
  Confusion served() const;  // the version that scored the rows
  Confusion anchor() const;  // version 0 on the same rows
  uint64_t rows() const;
  uint64_t only_served_right() const;  // rows the version got right and version 0 wrong
  uint64_t only_anchor_right() const;  // rows version 0 got right and the version wrong
  // (only_served_right - only_anchor_right) / sqrt(only_served_right + only_anchor_right); 0 when
  // no row is discordant.
  double McNemarZ() const;
  // served F1 - anchor F1, and its standard error by the delta method over the joint counts
  // (paired: the rows are the same, so their correlation narrows it).
  double F1Difference() const;
  double F1DifferenceSe() const;
  // Adds one labelled row: what the version and version 0 predicted, and the truth.
  void Add(bool served_positive, bool anchor_positive, bool actual_positive);
  // Adds one multi-class row: whether each was right.
  void AddCorrect(bool served_right, bool anchor_right);
};

struct PairedTest {
  double z = 1.64;            // one-sided bound of both tests (1.64: 95%)
  double f1_drop = 0.08;      // F1 is worse only when its upper bound is more than this below v0's
  uint64_t min_rows = 100;    // labelled rows before any verdict
  bool use_f1 = true;         // false for multi-class models (accuracy only)
};

enum class Comparison { kInsufficient, kWorse, kNotWorse, kBetter };
const char* ComparisonName(Comparison c);

// kWorse: significantly less accurate than version 0, or F1's upper bound more than f1_drop
// below version 0's. kBetter: significantly more accurate with F1 not significantly lower, or
// significantly higher F1 with accuracy not significantly lower. kNotWorse otherwise.
Comparison CompareToAnchor(const PairedOutcome& outcome, const PairedTest& test);
// One line with the figures behind CompareToAnchor, e.g. "accuracy 0.710 vs v0 0.820 (McNemar z
// -3.10), F1 0.400 vs 0.450 over 400 labelled rows".
std::string DescribeAgainstAnchor(const PairedOutcome& outcome);

}  // namespace reflex::control
