// Shift diagnosis: tells covariate drift from label shift before a heal, and computes the
// closed-form correction each one calls for (docs/DESIGN.md §3).
//
// - Label shift (the positive rate moves, class-conditional inputs do not): the drifted feature
//   moments are a re-weighted mixture of the clean class-conditional moments. Correction: the
//   new prior, re-estimated from the anchor model's posteriors (EstimateStreamPrior; or read off
//   the labels).
//   Label-free, the evidence alone decides (the mixture's worst residual below
//   mixture_tolerance_z, a weight strictly inside (0, 1), and EM within em_agreement of the
//   mixture weight on the scale of a prior's variance: em_agreement * 4 m (1 - m) at their
//   midpoint m); any new prior is plausible, a majority-positive one included.
// - Covariate drift: any other moment change. Correction: per-feature re-standardisation of each
//   drifted feature to its clean calibration mean and standard deviation.
// Each correction hurts in the other's case, hence the diagnosis.
//
// Pure functions over plain values; thread-compatible. Units: z values in standard deviations,
// priors and rates as fractions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/heal_policy.h"
#include "core/label_shift.h"
#include "core/welford.h"

namespace reflex {

// Clean statistics captured once at calibration time, from labelled clean data.
struct CleanCalibration {
  FeatureStats all;      // per-feature stats over all clean rows
  FeatureStats class0;   // negatives only
  FeatureStats class1;   // positives only
  double train_prior = 0;          // fraction of positives in the clean data
  double clean_positive_rate = 0;  // fraction the deployed model flags on clean data
  ScoreMeans score_means;          // the deployed model's mean posterior on clean negatives, positives
};

// The positive prior of rows the deployed model scored `anchor_probs` (version 0's posteriors):
// from the clean score means when they are usable (EstimatePriorFromScores: unbiased under label
// shift for any model), else by EM from the training prior. The one prior estimator of drift
// signals and diagnosis alike.
PriorEstimate EstimateStreamPrior(const CleanCalibration& clean, const float* anchor_probs, size_t n);

enum class ShiftKind { kNone, kCovariate, kLabel };
const char* ShiftKindName(ShiftKind kind);

// x'[f] = x[f] * scale + offset for each listed feature; other features unchanged.
struct FeatureAlignment {
  std::vector<size_t> features;
  std::vector<double> scale;
  std::vector<double> offset;
  bool empty() const { return features.empty(); }
  void Apply(float* rows, size_t n_rows, size_t dims) const;
};

struct ShiftDiagnosis {
  ShiftKind kind = ShiftKind::kNone;
  double prior = 0;               // label shift: the new prior; otherwise the training prior
  FeatureAlignment alignment;     // covariate drift: the re-standardisation
  double mixture_weight = -1;     // label-free: best class-mixture weight (-1 when not computed)
  double mixture_z = -1;          // label-free: worst standardised residual of that fit
  double em_prior = -1;           // label-free: EstimateStreamPrior on the anchor posteriors
  // Labelled covariate drift: after applying `alignment`, do the class-conditional moments match
  // the clean ones again (worst z below mixture_tolerance_z)? Only then is the closed-form
  // correction trusted alongside the labels.
  bool alignment_verified = false;
  std::string explanation;        // one line a person can read
};

// rows: the recent window (n_rows x dims, row-major). labels: per row 0/1, or -1 when unknown;
// nullptr when no row is labelled. anchor_probs: the deployed (version 0) model's probabilities on
// the rows, used by EM. Needs at least 2 rows.
ShiftDiagnosis DiagnoseShift(const CleanCalibration& clean, const float* rows, size_t n_rows,
                             size_t dims, const int8_t* labels, const float* anchor_probs,
                             const HealPolicy& policy);

// Re-standardisation of every feature whose mean moved by more than `min_shift` clean standard
// deviations or whose log standard-deviation ratio exceeds `min_shift`.
FeatureAlignment ComputeAlignment(const FeatureStats& clean, const FeatureStats& drifted,
                                  double min_shift);

}  // namespace reflex
