#include "core/shift_diagnosis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/label_shift.h"

namespace reflex {

const char* ShiftKindName(ShiftKind kind) {
  switch (kind) {
    case ShiftKind::kNone: return "none";
    case ShiftKind::kCovariate: return "covariate";
    case ShiftKind::kLabel: return "label";
  }
  return "unknown";
}

void FeatureAlignment::Apply(float* rows, size_t n_rows, size_t dims) const {
  for (size_t r = 0; r < n_rows; ++r) {
    float* row = rows + r * dims;
    for (size_t i = 0; i < features.size(); ++i) {
      row[features[i]] = static_cast<float>(row[features[i]] * scale[i] + offset[i]);
    }
  }
}

FeatureAlignment ComputeAlignment(const FeatureStats& clean, const FeatureStats& drifted,
                                  double min_shift) {
  FeatureAlignment a;
  for (size_t f = 0; f < clean.dims() && f < drifted.dims(); ++f) {
    const RunningStats& c = clean.feature(f);
    const RunningStats& d = drifted.feature(f);
    double cs = c.stddev(), ds = d.stddev();
    if (cs <= 0 || ds <= 0) continue;
    double mean_shift = std::fabs(d.mean - c.mean) / cs;
    double log_ratio = std::fabs(std::log(ds / cs));
    if (mean_shift <= min_shift && log_ratio <= min_shift) continue;
    double scale = cs / ds;
    a.features.push_back(f);
    a.scale.push_back(scale);
    a.offset.push_back(c.mean - d.mean * scale);
  }
  return a;
}

namespace {

std::string Fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

// With labels: are the class-conditional means unchanged? Returns the worst |z| over features
// and classes (classes with fewer than 5 labelled rows are skipped; -1 when none qualified).
double ClassConditionalShiftZ(const CleanCalibration& clean, const float* rows, size_t n_rows,
                              size_t dims, const int8_t* labels) {
  FeatureStats seen[2] = {FeatureStats(dims), FeatureStats(dims)};
  for (size_t r = 0; r < n_rows; ++r) {
    if (labels[r] == 0 || labels[r] == 1) seen[labels[r]].AddRow(rows + r * dims);
  }
  double worst = -1;
  for (int c = 0; c < 2; ++c) {
    if (seen[c].count() < 5) continue;
    const FeatureStats& ref = c == 0 ? clean.class0 : clean.class1;
    for (size_t f = 0; f < dims; ++f) {
      double var = ref.feature(f).variance();
      if (var <= 0) continue;
      double se = std::sqrt(var / seen[c].count() + var / std::max<uint64_t>(ref.count(), 1));
      worst = std::max(worst, std::fabs(seen[c].feature(f).mean - ref.feature(f).mean) / se);
    }
  }
  return worst;
}

}  // namespace

PriorEstimate EstimateStreamPrior(const CleanCalibration& clean, const float* anchor_probs, size_t n) {
  if (clean.score_means.usable()) {
    auto from_scores = EstimatePriorFromScores(anchor_probs, n, clean.score_means);
    if (from_scores.ok()) return *from_scores;
  }
  return EstimatePriorEm(anchor_probs, n, clean.train_prior);
}

ShiftDiagnosis DiagnoseShift(const CleanCalibration& clean, const float* rows, size_t n_rows,
                             size_t dims, const int8_t* labels, const float* anchor_probs,
                             const HealPolicy& policy) {
  ShiftDiagnosis d;
  d.prior = clean.train_prior;
  FeatureStats recent(dims);
  recent.AddRows(rows, n_rows);

  size_t labelled = 0, positives = 0;
  if (labels != nullptr) {
    for (size_t r = 0; r < n_rows; ++r) {
      if (labels[r] == 0 || labels[r] == 1) { ++labelled; positives += labels[r]; }
    }
  }

  if (labelled >= 20) {
    // Labels answer the question directly: unchanged class-conditionals mean label shift.
    double z = ClassConditionalShiftZ(clean, rows, n_rows, dims, labels);
    double q = static_cast<double>(positives) / labelled;
    if (z >= 0 && z < policy.mixture_tolerance_z) {
      if (std::fabs(q - clean.train_prior) > policy.prior_shift_threshold) {
        d.kind = ShiftKind::kLabel;
        d.prior = std::clamp(q, 1e-3, 1 - 1e-3);
        d.explanation = Fmt("label shift: class-conditional moments unchanged (worst z %.2f), labelled prior %.3f", z, q);
      } else {
        d.explanation = Fmt("no shift: class-conditional moments unchanged (worst z %.2f), prior %.3f", z, q);
      }
      return d;
    }
    d.kind = ShiftKind::kCovariate;
    d.alignment = ComputeAlignment(clean.all, recent, policy.align_min_shift);
    std::vector<float> aligned(rows, rows + n_rows * dims);
    d.alignment.Apply(aligned.data(), n_rows, dims);
    double z_after = ClassConditionalShiftZ(clean, aligned.data(), n_rows, dims, labels);
    d.alignment_verified = !d.alignment.empty() && z_after >= 0 && z_after < policy.mixture_tolerance_z;
    d.explanation = Fmt("covariate drift: class-conditional moments moved (worst z %.2f); %.0f feature(s) realigned",
                        z, static_cast<double>(d.alignment.features.size())) +
                    Fmt(d.alignment_verified ? ", alignment verified by labels (z %.2f after)"
                                             : ", alignment not confirmed by labels (z %.2f after): labels only", z_after);
    return d;
  }

  // Label-free: a re-weighted mixture of the clean class-conditionals, or not?
  Result<MixtureFit> fit = FitClassMixture(clean.class0.features(), clean.class1.features(), recent.features());
  if (anchor_probs != nullptr) {
    d.em_prior = EstimateStreamPrior(clean, anchor_probs, n_rows).prior;
  }
  if (fit.ok()) {
    d.mixture_weight = fit->weight;
    d.mixture_z = fit->max_residual_z;
    bool mixture_ok = fit->max_residual_z < policy.mixture_tolerance_z;
    bool moved = std::fabs(fit->weight - clean.train_prior) > policy.prior_shift_threshold;
    // Plausibility is the evidence's, for any prior: the clean class-conditionals re-weighted
    // fit the drifted moments, both classes are still present, and the prior estimate from the
    // deployed model's posteriors finds the same weight. No prior is implausible in itself (a task may become
    // majority-positive).
    bool inside = fit->weight > 0 && fit->weight < 1;
    // The two estimates agree within em_agreement on the scale of a prior's binomial variance
    // m (1 - m) at their midpoint m, relative to its value at 0.5: the same tolerance for priors
    // near 0.5, proportionally tighter toward 0 or 1, where an absolute one would accept almost
    // any pair (0.92 and 0.78 are 0.14 apart but a factor 3 apart in the odds of a negative).
    const double m = d.em_prior < 0 ? fit->weight : 0.5 * (d.em_prior + fit->weight);
    const double allowed = policy.em_agreement * 4 * m * (1 - m);
    bool agrees = d.em_prior < 0 || std::fabs(d.em_prior - fit->weight) <= allowed;
    if (mixture_ok && moved && inside && agrees) {
      d.kind = ShiftKind::kLabel;
      d.prior = std::clamp(d.em_prior >= 0 ? d.em_prior : fit->weight, 1e-3, 1 - 1e-3);
      d.explanation = Fmt("label shift: features fit a class mixture with weight %.3f (worst z %.2f); EM prior %.3f",
                          fit->weight, fit->max_residual_z, d.em_prior);
      return d;
    }
    if (mixture_ok && moved && !inside) {
      d.explanation = Fmt("mixture weight %.3f fits (worst z %.2f) but leaves one class empty; treated as covariate drift; ",
                          fit->weight, fit->max_residual_z);
    } else if (mixture_ok && moved && !agrees) {
      d.explanation = Fmt("mixture weight %.3f fits but EM prior %.3f disagrees", fit->weight, d.em_prior) +
                      Fmt(" (by more than %.3f); treated as covariate drift; ", allowed);
    }
  }
  d.alignment = ComputeAlignment(clean.all, recent, policy.align_min_shift);
  d.kind = d.alignment.empty() ? ShiftKind::kNone : ShiftKind::kCovariate;
  d.explanation += d.kind == ShiftKind::kNone
                       ? std::string("no feature moved beyond align_min_shift")
                       : Fmt("covariate drift: %.0f feature(s) realigned to clean moments",
                             static_cast<double>(d.alignment.features.size()));
  return d;
}

}  // namespace reflex
