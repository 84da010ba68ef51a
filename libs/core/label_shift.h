// Label shift: the positive rate moves while the class-conditional inputs p(x | y) stay put.
//
// Tools, all label-free:
//  * EstimatePriorFromScores re-estimates the positive prior of a drifted stream from the mean
//    of the model's posteriors and their clean class-conditional means ("soft" black-box shift
//    estimation, Lipton, Wang & Smola, 2018). It needs no calibrated model: under label shift
//    the expected posterior is q m1 + (1 - q) m0 whatever the posteriors mean, where m0 and m1
//    are the mean posterior of clean negatives and positives.
//  * EstimatePriorEm re-estimates it by EM on the posteriors (Saerens, Latinne & Decaestecker,
//    2002). It is exact only for a calibrated model: a model trained with a class weight, or one
//    a little over- or under-confident, biases it (on one zoo stream it read 0.30 where the rows
//    held 0.56 positives, and 0.50 on clean rows whose prior was 0.39). It is the fallback when
//    the clean score means are unknown.
//  * AdjustPosterior corrects a posterior for a new prior. Under pure label shift the corrected
//    posteriors are the right healing target.
//  * FitClassMixture tells label shift from covariate drift: under pure label shift the drifted
//    per-feature mean and variance equal those of a mixture w*class1 + (1-w)*class0 of the clean
//    class-conditional statistics; under covariate drift no w fits. A small max_residual_z
//    (say < 3) means "consistent with label shift"; a large one means the inputs moved.
// Each tool hurts in the other's case (docs/DESIGN.md §3), so the healer runs the test first.
//
// Plain functions over caller-owned inputs; no state, safe from any thread.
// Units: probabilities and priors are fractions in [0, 1]; z values are standard errors.
#pragma once

#include <cstddef>
#include <vector>

#include "core/status.h"
#include "core/welford.h"

namespace reflex {

// Priors handled by EM and AdjustPosterior are clamped to [kMinPrior, 1 - kMinPrior].
constexpr double kMinPrior = 1e-4;

struct PriorEstimate {
  double prior = 0;      // estimated positive prior of the stream
  int iterations = 0;    // M-steps run (EM only)
  bool converged = false;  // |dq| < tolerance within max_iterations (EM only)
  double standard_error = 0;  // of `prior`, from the rows' own spread (sampling noise only)
};

// The deployed model's mean posterior on clean negatives and on clean positives.
struct ScoreMeans {
  double negative = -1;
  double positive = -1;
  // Separated enough to read a prior off: positives score higher by more than this (below it,
  // the model barely tells the classes apart and the estimate's noise explodes).
  static constexpr double kMinSeparation = 0.05;
  bool usable() const { return negative >= 0 && positive >= 0 && positive - negative > kMinSeparation; }
};

// q = (mean posterior - clean.negative) / (clean.positive - clean.negative), clamped to [0, 1];
// standard_error = sd(posteriors) / sqrt(n) / (clean.positive - clean.negative). Non-finite
// posteriors are skipped and the rest clamped to [0, 1]. InvalidArgument when `clean` is not
// usable() or no posterior is usable.
Result<PriorEstimate> EstimatePriorFromScores(const float* probs, size_t n, const ScoreMeans& clean);

// EM from q = train_prior: E-step p' = AdjustPosterior(p, train_prior, q) for each posterior,
// M-step q = mean(p'), clamped to [kMinPrior, 1 - kMinPrior]; stops when |dq| < tolerance.
// `probs` are the model's posteriors p(positive | x) under the training prior; non-finite values
// are skipped and the rest clamped to [0, 1]. With no usable posterior it returns
// {train_prior (clamped), 0, false}. standard_error: the binomial sqrt(q (1 - q) / n).
PriorEstimate EstimatePriorEm(const float* probs, size_t n, double train_prior,
                              int max_iterations = 200, double tolerance = 1e-6);

// The posterior p (from a model trained at prior train_prior) re-weighted for new_prior:
// (q/pi) p / ((q/pi) p + ((1-q)/(1-pi))(1-p)), both priors clamped as above, p to [0, 1].
double AdjustPosterior(double p, double train_prior, double new_prior);

struct MixtureFit {
  double weight = 0;          // best w in [0, 1]: the positive share of the observed mixture
  double max_residual_z = 0;  // max over features of |standardized residual|, mean and variance
  size_t worst_feature = 0;   // feature index where max_residual_z occurs
};

// class0 / class1: clean calibration statistics per feature for each class (count >= 2 each);
// observed: statistics of the drifted window (count >= 2). InvalidArgument when the vectors are
// empty, their sizes differ, or a count is below 2 or a mean/M2 is not finite (naming the
// feature).
//
// The weight minimises the sum over features of ((obs_mean - mix_mean(w)) / sqrt(obs_var/n))^2,
// a 1-D least-squares problem solved in closed form and clamped to [0, 1]; if the classes have
// the same mean on every feature, w instead minimises the squared standardized variance
// residuals (golden-section search). Residuals at that w:
//   mean:     (obs_mean - mix_mean) / sqrt(mix_var/n + w^2 v1/n1 + (1-w)^2 v0/n0)
//   variance: (obs_var - mix_var) / sqrt(2 mix_var^2/n + 2 w^2 v1^2/n1 + 2 (1-w)^2 v0^2/n0)
// where mix_mean = w m1 + (1-w) m0, mix_var = w v1 + (1-w) v0 + w(1-w)(m1-m0)^2, n is the
// observed count and n0, n1 the class counts (the n0/n1 terms account for the calibration
// statistics being estimates too). A residual over a zero standard error is 0 when the residual
// is 0 and infinite otherwise.
Result<MixtureFit> FitClassMixture(const std::vector<RunningStats>& class0,
                                   const std::vector<RunningStats>& class1,
                                   const std::vector<RunningStats>& observed);

}  // namespace reflex
