#include "core/operating_point.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace reflex {

namespace {

// The offset that flags exactly the first k of `rows` (sorted by logit, highest first): the
// midpoint between the k-th and (k+1)-th distinct logits, one logit past either end, and 0 when
// the unshifted decision (logit > 0) already flags exactly those rows.
template <typename Second>
double OffsetFlaggingTop(const std::vector<std::pair<float, Second>>& rows, size_t k) {
  const bool unshifted = (k == 0 || rows[k - 1].first > 0) && (k == rows.size() || rows[k].first <= 0);
  if (unshifted) return 0;
  if (k == 0) return -(static_cast<double>(rows[0].first) + 1.0);
  if (k == rows.size()) return -(static_cast<double>(rows.back().first) - 1.0);
  return -0.5 * (static_cast<double>(rows[k - 1].first) + rows[k].first);
}

// Accuracy and F1 of flagging `flagged` rows whose probabilities sum to `tp`, among `total` rows
// whose probabilities sum to `positives`: expected counts, as the expected choices use them.
struct ExpectedCounts {
  double total, positives;
  double Accuracy(double flagged, double tp) const { return (total - (flagged - tp) - (positives - tp)) / total; }
  double F1(double flagged, double tp) const {
    const double denom = flagged + positives;
    return denom > 0 ? 2 * tp / denom : 0.0;
  }
};

}  // namespace

const char* OperatingPointName(OperatingPoint rule) {
  switch (rule) {
    case OperatingPoint::kNone: return "none";
    case OperatingPoint::kAccuracyAtF1: return "accuracy_at_f1";
    case OperatingPoint::kExpectedAccuracyAtF1: return "expected_accuracy_at_f1";
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
    const double offset = OffsetFlaggingTop(rows, k);
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

double PlattFit::Standardise(double logit) const {
  return std::clamp((logit - center) / scale, -kClip, kClip);
}

double PlattFit::Probability(double logit) const {
  const double u = Standardise(logit);
  const double t = coef[0] + coef[1] * u + coef[2] * u * u;
  return 1.0 / (1.0 + std::exp(-t));
}

PlattFit FitPlatt(const float* logits, const int8_t* labels, size_t n, int degree) {
  PlattFit fit;
  std::vector<std::pair<double, double>> rows;
  size_t positives = 0;
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < n; ++i) {
    if ((labels[i] == 0 || labels[i] == 1) && std::isfinite(logits[i])) {
      rows.emplace_back(logits[i], labels[i]);
      positives += labels[i];
      sum += logits[i];
      sum2 += static_cast<double>(logits[i]) * logits[i];
    }
  }
  if (rows.size() < 2 || positives == 0 || positives == rows.size()) return fit;
  const double m = static_cast<double>(rows.size());
  // Robust standardisation: logits of an over-confident model have long tails, and a few rows far
  // out would otherwise set the scale and, squared, the curvature. Centre at the median, scale by
  // the interquartile range (as a normal's sigma), and clip u to +/- kClip (PlattFit::Probability).
  {
    std::vector<double> sorted;
    sorted.reserve(rows.size());
    for (const auto& row : rows) sorted.push_back(row.first);
    std::sort(sorted.begin(), sorted.end());
    auto quantile = [&](double q) {
      const double at = q * (sorted.size() - 1);
      const size_t i = static_cast<size_t>(at);
      const double frac = at - i;
      return i + 1 < sorted.size() ? sorted[i] * (1 - frac) + sorted[i + 1] * frac : sorted[i];
    };
    fit.center = quantile(0.5);
    fit.scale = (quantile(0.75) - quantile(0.25)) / 1.349;
    if (!(fit.scale > 1e-12)) fit.scale = std::sqrt(std::max(sum2 / m - (sum / m) * (sum / m), 0.0));
  }
  if (!(fit.scale > 1e-12)) return fit;
  const int k = degree >= 2 ? 3 : 2;
  // On the non-constant terms (standardised logits), in rows' worth of weight: about 1% of a
  // heal's few hundred labelled rows, so few or separable rows still give finite values, and
  // negligible on large samples.
  constexpr double ridge = 5.0;
  auto features = [&](double z, double* x) {
    const double u = fit.Standardise(z);
    x[0] = 1;
    x[1] = u;
    x[2] = u * u;
  };
  auto objective = [&](const double* beta) {
    double f = 0;
    for (int j = 1; j < k; ++j) f += 0.5 * ridge * beta[j] * beta[j];
    double x[3];
    for (const auto& [z, y] : rows) {
      features(z, x);
      double t = 0;
      for (int j = 0; j < k; ++j) t += beta[j] * x[j];
      f += std::log1p(std::exp(-std::fabs(t))) + std::max(t, 0.0) - y * t;  // log(1 + e^t) - y t
    }
    return f;
  };
  // Convex; Newton with backtracking from the constant model (the log prior odds).
  double beta[3] = {std::log(static_cast<double>(positives) / (m - positives)), 0, 0};
  double f = objective(beta);
  for (int iter = 0; iter < 100; ++iter) {
    double g[3] = {0, 0, 0}, h[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, x[3];
    for (int j = 1; j < k; ++j) {
      g[j] = ridge * beta[j];
      h[j][j] = ridge;
    }
    for (const auto& [z, y] : rows) {
      features(z, x);
      double t = 0;
      for (int j = 0; j < k; ++j) t += beta[j] * x[j];
      const double p = 1.0 / (1.0 + std::exp(-t)), w = p * (1 - p);
      for (int j = 0; j < k; ++j) {
        g[j] += (p - y) * x[j];
        for (int l = 0; l < k; ++l) h[j][l] += w * x[j] * x[l];
      }
    }
    // Solve h d = g by Gaussian elimination (k <= 3, h positive definite).
    double d[3];
    {
      double a[3][4];
      for (int j = 0; j < k; ++j) {
        for (int l = 0; l < k; ++l) a[j][l] = h[j][l];
        a[j][k] = g[j];
      }
      bool singular = false;
      for (int c = 0; c < k && !singular; ++c) {
        if (!(std::fabs(a[c][c]) > 1e-12)) { singular = true; break; }
        for (int r = c + 1; r < k; ++r) {
          const double q = a[r][c] / a[c][c];
          for (int l = c; l <= k; ++l) a[r][l] -= q * a[c][l];
        }
      }
      if (singular) break;
      for (int j = k - 1; j >= 0; --j) {
        double v = a[j][k];
        for (int l = j + 1; l < k; ++l) v -= a[j][l] * d[l];
        d[j] = v / a[j][j];
      }
    }
    double step = 1.0, next = f, trial[3] = {beta[0], beta[1], beta[2]};
    while (step > 1e-6) {
      for (int j = 0; j < k; ++j) trial[j] = beta[j] - step * d[j];
      next = objective(trial);
      if (next <= f) break;
      step *= 0.5;
    }
    if (step <= 1e-6) break;
    for (int j = 0; j < k; ++j) beta[j] = trial[j];
    const double gain = f - next;
    f = next;
    if (gain < 1e-12 * (1 + std::fabs(f))) break;
  }
  for (int j = 0; j < 3; ++j) {
    if (!std::isfinite(beta[j])) return fit;
    fit.coef[j] = beta[j];
  }
  fit.ok = true;
  return fit;
}

LogitOffsetChoice ChooseExpectedLogitOffset(const float* logits, const int8_t* labels, size_t n,
                                            const uint8_t* reference_flagged, double f1_tolerance, int degree) {
  LogitOffsetChoice choice;
  const PlattFit fit = FitPlatt(logits, labels, n, degree);
  for (size_t i = 0; i < n; ++i) choice.rows += (labels[i] == 0 || labels[i] == 1) && std::isfinite(logits[i]);
  // Every finite row with its probability, sorted by logit from the highest.
  std::vector<std::pair<float, double>> rows;
  double positives = 0, ref_tp = 0;
  size_t ref_flagged = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(logits[i])) continue;
    const double p = fit.ok ? fit.Probability(logits[i]) : 0.0;
    rows.emplace_back(logits[i], p);
    positives += p;
    if (reference_flagged != nullptr && reference_flagged[i]) {
      ++ref_flagged;
      ref_tp += p;
    }
  }
  if (!fit.ok || !(fit.coef[1] > 0) || rows.empty()) return choice;
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  const ExpectedCounts counts{static_cast<double>(rows.size()), positives};
  double tp0 = 0;
  size_t flagged0 = 0;
  for (const auto& [z, p] : rows) {
    if (z > 0) { ++flagged0; tp0 += p; }
  }
  choice.accuracy_before = choice.accuracy_after = counts.Accuracy(flagged0, tp0);
  choice.f1_before = choice.f1_after = counts.F1(flagged0, tp0);
  choice.reference_f1 = (reference_flagged ? counts.F1(ref_flagged, ref_tp) : choice.f1_before) - f1_tolerance;
  bool found = false;
  LogitOffsetChoice fallback = choice;
  fallback.f1_after = -1;
  double tp = 0;
  for (size_t k = 0; k <= rows.size(); ++k) {
    if (k > 0) tp += rows[k - 1].second;
    if (k > 0 && k < rows.size() && rows[k - 1].first == rows[k].first) continue;
    const double offset = OffsetFlaggingTop(rows, k);
    const double acc = counts.Accuracy(k, tp), f = counts.F1(k, tp);
    if (f > fallback.f1_after) {
      fallback.offset = offset;
      fallback.accuracy_after = acc;
      fallback.f1_after = f;
    }
    if (f < choice.reference_f1) continue;
    if (!found || acc > choice.accuracy_after) {
      found = true;
      choice.offset = offset;
      choice.accuracy_after = acc;
      choice.f1_after = f;
    }
  }
  return found ? choice : fallback;
}

ScoreBandChoice ChooseExpectedScoreBand(const float* scores, const int8_t* labels, size_t n,
                                        const uint8_t* reference_flagged, double f1_tolerance) {
  ScoreBandChoice choice;
  const PlattFit fit = FitPlatt(scores, labels, n, 2);
  for (size_t i = 0; i < n; ++i) choice.rows += (labels[i] == 0 || labels[i] == 1) && std::isfinite(scores[i]);
  if (!fit.ok || !(fit.coef[2] < 0)) return choice;
  struct Row {
    float score;
    double p;
    bool reference;
  };
  std::vector<Row> rows;
  double positives = 0, ref_tp = 0;
  size_t ref_flagged = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(scores[i])) continue;
    const Row row{scores[i], fit.Probability(scores[i]), reference_flagged != nullptr && reference_flagged[i] != 0};
    rows.push_back(row);
    positives += row.p;
    if (row.reference) { ++ref_flagged; ref_tp += row.p; }
  }
  if (rows.size() < 2) return choice;
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.score < b.score; });
  // The peak must lie strictly inside the scores' range, else the bands are thresholds.
  const double vertex = fit.center + fit.scale * (-fit.coef[1] / (2 * fit.coef[2]));
  if (!(vertex > rows.front().score && vertex < rows.back().score)) return choice;
  const ExpectedCounts counts{static_cast<double>(rows.size()), positives};
  choice.reference_f1 = counts.F1(ref_flagged, ref_tp) - f1_tolerance;
  // The probability is a concave function of the score passed through a sigmoid, so the rows in
  // order of probability grow one band [a, b) of the sorted scores outward: at each step take the
  // more probable of the two neighbours. Rows with equal scores go in together.
  size_t a = 0;
  while (a + 1 < rows.size() && rows[a + 1].score <= vertex) ++a;
  size_t b = a;  // band is rows[a, b)
  double tp = 0;
  auto edge = [&](size_t lo_row, size_t hi_row) {  // band edges for rows [lo_row, hi_row)
    const double lo = lo_row == 0 ? -std::numeric_limits<double>::infinity()
                                  : 0.5 * (static_cast<double>(rows[lo_row - 1].score) + rows[lo_row].score);
    const double hi = hi_row == rows.size() ? std::numeric_limits<double>::infinity()
                                            : 0.5 * (static_cast<double>(rows[hi_row - 1].score) + rows[hi_row].score);
    return std::make_pair(lo, hi);
  };
  while (b - a < rows.size()) {
    const bool can_left = a > 0, can_right = b < rows.size();
    const bool take_right = b == a ? true : (!can_left || (can_right && rows[b].p >= rows[a - 1].p));
    if (b == a) {
      tp += rows[b].p;
      ++b;
    } else if (take_right) {
      const float s = rows[b].score;
      while (b < rows.size() && rows[b].score == s) tp += rows[b++].p;
    } else {
      const float s = rows[a - 1].score;
      while (a > 0 && rows[a - 1].score == s) tp += rows[--a].p;
    }
    if (b - a == rows.size()) break;  // flagging every row is not a band
    const double acc = counts.Accuracy(static_cast<double>(b - a), tp), f = counts.F1(static_cast<double>(b - a), tp);
    if (f < choice.reference_f1) continue;
    if (!choice.ok || acc > choice.accuracy_after) {
      choice.ok = true;
      std::tie(choice.lo, choice.hi) = edge(a, b);
      choice.accuracy_after = acc;
      choice.f1_after = f;
      choice.inside_rate = tp / static_cast<double>(b - a);
      choice.outside_rate = (positives - tp) / (counts.total - static_cast<double>(b - a));
    }
  }
  return choice;
}

}  // namespace reflex
