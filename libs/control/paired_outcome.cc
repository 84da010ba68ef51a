#include "control/paired_outcome.h"

#include <cmath>
#include <cstdio>

namespace reflex::control {

PairedOutcome PairedOutcome::FromCells(const std::vector<uint64_t>& cells) {
  PairedOutcome o;
  if (cells.size() != 8) return o;
  for (int t = 0; t < 2; ++t)
    for (int s = 0; s < 2; ++s)
      for (int a = 0; a < 2; ++a) o.cell[t][s][a] = cells[t * 4 + s * 2 + a];
  return o;
}

std::vector<uint64_t> PairedOutcome::ToCells() const {
  std::vector<uint64_t> cells(8);
  for (int t = 0; t < 2; ++t)
    for (int s = 0; s < 2; ++s)
      for (int a = 0; a < 2; ++a) cells[t * 4 + s * 2 + a] = cell[t][s][a];
  return cells;
}

void PairedOutcome::Merge(const PairedOutcome& other) {
  for (int t = 0; t < 2; ++t)
    for (int s = 0; s < 2; ++s)
      for (int a = 0; a < 2; ++a) cell[t][s][a] += other.cell[t][s][a];
}

namespace {

// One side's confusion: `served` picks which prediction (index 1 of cell) or version 0's (index 2).
Confusion SideOf(const uint64_t (&cell)[2][2][2], bool served) {
  Confusion c;
  for (int t = 0; t < 2; ++t) {
    for (int s = 0; s < 2; ++s) {
      for (int a = 0; a < 2; ++a) {
        const bool predicted = served ? s != 0 : a != 0;
        uint64_t& slot = t ? (predicted ? c.tp : c.fn) : (predicted ? c.fp : c.tn);
        slot += cell[t][s][a];
      }
    }
  }
  return c;
}

}  // namespace

Confusion PairedOutcome::served() const { return SideOf(cell, true); }
Confusion PairedOutcome::anchor() const { return SideOf(cell, false); }

uint64_t PairedOutcome::rows() const {
  uint64_t n = 0;
  for (const auto& by_served : cell)
    for (const auto& by_anchor : by_served)
      for (uint64_t c : by_anchor) n += c;
  return n;
}

uint64_t PairedOutcome::only_served_right() const { return cell[1][1][0] + cell[0][0][1]; }
uint64_t PairedOutcome::only_anchor_right() const { return cell[1][0][1] + cell[0][1][0]; }

double PairedOutcome::McNemarZ() const {
  const double b = static_cast<double>(only_served_right()), c = static_cast<double>(only_anchor_right());
  return b + c > 0 ? (b - c) / std::sqrt(b + c) : 0.0;
}

double PairedOutcome::F1Difference() const { return served().f1() - anchor().f1(); }

double PairedOutcome::F1DifferenceSe() const {
  // F1 = N / D with per-row N = 2 [tp], D = 2 [tp] + [fp] + [fn]. Each row's influence on the
  // difference is (N_s - F1_s D_s) / mean(D_s) - (N_a - F1_a D_a) / mean(D_a).
  const double n = static_cast<double>(rows());
  if (n < 2) return 0.0;
  const Confusion served_c = served(), anchor_c = anchor();
  const double f_s = served_c.f1(), f_a = anchor_c.f1();
  const double d_s = (2.0 * served_c.tp + served_c.fp + served_c.fn) / n;
  const double d_a = (2.0 * anchor_c.tp + anchor_c.fp + anchor_c.fn) / n;
  if (d_s <= 0 || d_a <= 0) return 0.0;
  double sum = 0, sum2 = 0;
  for (int t = 0; t < 2; ++t) {
    for (int s = 0; s < 2; ++s) {
      for (int a = 0; a < 2; ++a) {
        const double count = static_cast<double>(cell[t][s][a]);
        if (count == 0) continue;
        auto influence = [&](int predicted, double f, double d) {
          const double num = (t && predicted) ? 2.0 : 0.0;
          const double den = (t && predicted) ? 2.0 : (t || predicted) ? 1.0 : 0.0;
          return (num - f * den) / d;
        };
        const double psi = influence(s, f_s, d_s) - influence(a, f_a, d_a);
        sum += count * psi;
        sum2 += count * psi * psi;
      }
    }
  }
  const double mean = sum / n;
  return std::sqrt(std::max(0.0, sum2 / n - mean * mean) / n);
}

void PairedOutcome::Add(bool served_positive, bool anchor_positive, bool actual_positive) {
  ++cell[actual_positive][served_positive][anchor_positive];
}

void PairedOutcome::AddCorrect(bool served_right, bool anchor_right) { Add(served_right, anchor_right, true); }

const char* ComparisonName(Comparison c) {
  switch (c) {
    case Comparison::kInsufficient: return "insufficient";
    case Comparison::kWorse: return "worse";
    case Comparison::kNotWorse: return "not worse";
    case Comparison::kBetter: return "better";
  }
  return "?";
}

Comparison CompareToAnchor(const PairedOutcome& o, const PairedTest& test) {
  if (o.rows() < test.min_rows) return Comparison::kInsufficient;
  const double z = o.McNemarZ();
  const bool acc_worse = z <= -test.z, acc_better = z >= test.z;
  bool f1_worse = false, f1_better = false, f1_not_worse = true;
  if (test.use_f1) {
    const double d = o.F1Difference(), se = o.F1DifferenceSe();
    f1_worse = d + test.z * se < -test.f1_drop;
    f1_better = d - test.z * se > 0;
    f1_not_worse = d + test.z * se >= 0;
  }
  if (acc_worse || f1_worse) return Comparison::kWorse;
  if ((acc_better && (f1_not_worse || !test.use_f1)) || (f1_better && z > -test.z)) return Comparison::kBetter;
  return Comparison::kNotWorse;
}

std::string DescribeAgainstAnchor(const PairedOutcome& o) {
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "accuracy %.3f vs v0 %.3f (McNemar z %+.2f), F1 %.3f vs %.3f (difference se %.3f) over %llu labelled rows",
                o.served().accuracy(), o.anchor().accuracy(), o.McNemarZ(), o.served().f1(), o.anchor().f1(), o.F1DifferenceSe(),
                static_cast<unsigned long long>(o.rows()));
  return buf;
}

}  // namespace reflex::control
