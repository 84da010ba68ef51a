#include "core/operating_point.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace reflex {

const char* OperatingPointName(OperatingPoint rule) {
  switch (rule) {
    case OperatingPoint::kNone: return "none";
    case OperatingPoint::kAccuracyAtF1: return "accuracy_at_f1";
  }
  return "unknown";
}

namespace {

struct Counts {
  size_t tp = 0, fp = 0, n = 0, positives = 0;
  double Accuracy() const { return n ? static_cast<double>(n - fp - (positives - tp)) / n : 0.0; }
  double F1() const {
    const size_t denom = 2 * tp + fp + (positives - tp);
    return denom ? 2.0 * tp / denom : 0.0;
  }
};

}  // namespace

LogitOffsetChoice ChooseLogitOffset(const float* logits, const int8_t* labels, size_t n, OperatingPoint rule,
                                    std::optional<double> reference_f1) {
  // Usable rows, sorted by logit from the highest: flagging the top k rows is one decision.
  std::vector<std::pair<float, bool>> rows;
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if ((labels[i] == 0 || labels[i] == 1) && std::isfinite(logits[i])) rows.emplace_back(logits[i], labels[i] == 1);
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  LogitOffsetChoice choice;
  choice.rows = rows.size();
  Counts base;
  base.n = rows.size();
  for (const auto& [logit, positive] : rows) {
    base.positives += positive;
    if (logit > 0) {
      base.tp += positive;
      base.fp += !positive;
    }
  }
  choice.accuracy_before = choice.accuracy_after = base.Accuracy();
  choice.f1_before = choice.f1_after = base.F1();
  choice.reference_f1 = reference_f1.value_or(choice.f1_before);
  if (rule == OperatingPoint::kNone || rows.empty()) return choice;

  // Walk k = 0..n flagged rows; the offset that flags exactly the top k puts the threshold
  // halfway between the k-th and (k+1)-th logit.
  // Best offset that keeps the reference (most accurate), and the fallback (highest F1).
  bool found = false;
  LogitOffsetChoice fallback = choice;
  fallback.f1_after = -1;
  auto better = [](double a, double b, double offset, double best_offset) {
    return a > b || (a == b && std::fabs(offset) < std::fabs(best_offset));
  };
  Counts c;
  c.n = base.n;
  c.positives = base.positives;
  for (size_t k = 0; k <= rows.size(); ++k) {
    if (k > 0) {
      c.tp += rows[k - 1].second;
      c.fp += !rows[k - 1].second;
    }
    if (k > 0 && k < rows.size() && rows[k - 1].first == rows[k].first) continue;  // a tie splits nothing
    double offset;
    if (k == 0) offset = -(static_cast<double>(rows[0].first) + 1.0);
    else if (k == rows.size()) offset = -(static_cast<double>(rows.back().first) - 1.0);
    else offset = -0.5 * (static_cast<double>(rows[k - 1].first) + rows[k].first);
    // The unshifted decision flags exactly the rows with logit > 0: keep δ = 0 for it.
    const bool unshifted = (k == 0 || rows[k - 1].first > 0) && (k == rows.size() || rows[k].first <= 0);
    if (unshifted) offset = 0;
    const double acc = c.Accuracy(), f1 = c.F1();
    if (f1 > fallback.f1_after || (f1 == fallback.f1_after && better(acc, fallback.accuracy_after, offset, fallback.offset))) {
      fallback.offset = offset;
      fallback.accuracy_after = acc;
      fallback.f1_after = f1;
    }
    if (f1 < choice.reference_f1) continue;
    if (!found || better(acc, choice.accuracy_after, offset, choice.offset)) {
      found = true;
      choice.offset = offset;
      choice.accuracy_after = acc;
      choice.f1_after = f1;
    }
  }
  return found ? choice : fallback;
}

}  // namespace reflex
