#include "core/label_shift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace reflex {

namespace {

double ClampPrior(double prior) {
  if (!std::isfinite(prior)) return 0.5;
  return std::clamp(prior, kMinPrior, 1.0 - kMinPrior);
}

// Residual over its standard error; 0/0 is 0 and r/0 is infinite.
double Standardize(double residual, double standard_error) {
  if (standard_error > 0) return residual / standard_error;
  return residual == 0 ? 0.0 : std::numeric_limits<double>::infinity();
}

// What a mixture with positive share w predicts for one feature.
struct FeatureMixture {
  double mean_z;      // standardized mean residual
  double variance_z;  // standardized variance residual
};

FeatureMixture Residuals(const RunningStats& c0, const RunningStats& c1,
                         const RunningStats& obs, double w) {
  const double n = static_cast<double>(obs.count);
  const double n0 = static_cast<double>(c0.count);
  const double n1 = static_cast<double>(c1.count);
  const double v0 = c0.variance();
  const double v1 = c1.variance();
  const double gap = c1.mean - c0.mean;
  const double mix_mean = w * c1.mean + (1 - w) * c0.mean;
  const double mix_var = w * v1 + (1 - w) * v0 + w * (1 - w) * gap * gap;
  const double mean_se = std::sqrt(mix_var / n + w * w * v1 / n1 + (1 - w) * (1 - w) * v0 / n0);
  const double var_se = std::sqrt(2 * mix_var * mix_var / n + 2 * w * w * v1 * v1 / n1 +
                                  2 * (1 - w) * (1 - w) * v0 * v0 / n0);
  return {Standardize(obs.mean - mix_mean, mean_se),
          Standardize(obs.variance() - mix_var, var_se)};
}

Status CheckCounts(const std::vector<RunningStats>& stats, const char* name) {
  for (size_t i = 0; i < stats.size(); ++i) {
    if (stats[i].count < 2) {
      return Status::InvalidArgument(std::string("FitClassMixture: ") + name + " feature " +
                                     std::to_string(i) + " has " +
                                     std::to_string(stats[i].count) +
                                     " values; at least 2 are needed for a variance");
    }
    if (!std::isfinite(stats[i].mean) || !std::isfinite(stats[i].m2)) {
      return Status::InvalidArgument(std::string("FitClassMixture: ") + name + " feature " +
                                     std::to_string(i) + " has a non-finite mean or M2");
    }
  }
  return Status::Ok();
}

// Closed-form least squares on the mean residuals, each scaled by the observed standard error.
// Returns false when the classes have the same mean on every feature (w is then unidentified).
bool FitWeightOnMeans(const std::vector<RunningStats>& class0,
                      const std::vector<RunningStats>& class1,
                      const std::vector<RunningStats>& observed, double* weight) {
  double numerator = 0;
  double denominator = 0;
  for (size_t j = 0; j < observed.size(); ++j) {
    const double gap = class1[j].mean - class0[j].mean;
    const double offset = observed[j].mean - class0[j].mean;
    // Floor the scale so a constant observed feature does not dominate with an infinite weight.
    const double scale2 =
        std::max(observed[j].variance(), 1e-12 * (1 + gap * gap)) /
        static_cast<double>(observed[j].count);
    numerator += gap * offset / scale2;
    denominator += gap * gap / scale2;
  }
  if (!(denominator > 0) || !std::isfinite(numerator / denominator)) return false;
  *weight = std::clamp(numerator / denominator, 0.0, 1.0);
  return true;
}

// Golden-section search for the w in [0, 1] minimising the squared variance residuals.
double FitWeightOnVariances(const std::vector<RunningStats>& class0,
                            const std::vector<RunningStats>& class1,
                            const std::vector<RunningStats>& observed) {
  auto cost = [&](double w) {
    double sum = 0;
    for (size_t j = 0; j < observed.size(); ++j) {
      const double z = Residuals(class0[j], class1[j], observed[j], w).variance_z;
      sum += std::isfinite(z) ? z * z : std::numeric_limits<double>::max() / 4;
    }
    return sum;
  };
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double lo = 0, hi = 1;
  double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
  double cost_a = cost(a), cost_b = cost(b);
  for (int i = 0; i < 60; ++i) {
    if (cost_a <= cost_b) {
      hi = b;
      b = a;
      cost_b = cost_a;
      a = hi - ratio * (hi - lo);
      cost_a = cost(a);
    } else {
      lo = a;
      a = b;
      cost_a = cost_b;
      b = lo + ratio * (hi - lo);
      cost_b = cost(b);
    }
  }
  return (lo + hi) / 2;
}

}  // namespace

double AdjustPosterior(double p, double train_prior, double new_prior) {
  const double pi = ClampPrior(train_prior);
  const double q = ClampPrior(new_prior);
  p = std::clamp(p, 0.0, 1.0);
  const double positive = (q / pi) * p;
  const double negative = ((1 - q) / (1 - pi)) * (1 - p);
  return positive / (positive + negative);  // > 0: q, 1-q, pi, 1-pi are all positive
}

PriorEstimate EstimatePriorEm(const float* probs, size_t n, double train_prior,
                              int max_iterations, double tolerance) {
  const double pi = ClampPrior(train_prior);
  PriorEstimate estimate;
  estimate.prior = pi;
  std::vector<double> posteriors;
  posteriors.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(probs[i])) posteriors.push_back(std::clamp<double>(probs[i], 0.0, 1.0));
  }
  if (posteriors.empty()) return estimate;
  double q = pi;
  for (int iteration = 1; iteration <= max_iterations; ++iteration) {
    double sum = 0;
    for (double p : posteriors) sum += AdjustPosterior(p, pi, q);
    const double next = ClampPrior(sum / static_cast<double>(posteriors.size()));
    const double change = std::abs(next - q);
    q = next;
    estimate.iterations = iteration;
    if (change < tolerance) {
      estimate.converged = true;
      break;
    }
  }
  estimate.prior = q;
  estimate.standard_error = std::sqrt(q * (1 - q) / static_cast<double>(posteriors.size()));
  return estimate;
}

Result<PriorEstimate> EstimatePriorFromScores(const float* probs, size_t n, const ScoreMeans& clean) {
  if (!clean.usable()) {
    return Status::InvalidArgument("EstimatePriorFromScores: clean score means " + std::to_string(clean.negative) + " (negatives), " +
                                   std::to_string(clean.positive) + " (positives) do not separate the classes");
  }
  RunningStats scores;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(probs[i])) scores.Add(std::clamp<double>(probs[i], 0.0, 1.0));
  }
  if (scores.count == 0) return Status::InvalidArgument("EstimatePriorFromScores: no finite posterior");
  const double separation = clean.positive - clean.negative;
  PriorEstimate estimate;
  estimate.prior = std::clamp((scores.mean - clean.negative) / separation, 0.0, 1.0);
  estimate.standard_error = std::sqrt(scores.variance() / static_cast<double>(scores.count)) / separation;
  return estimate;
}

Result<MixtureFit> FitClassMixture(const std::vector<RunningStats>& class0,
                                   const std::vector<RunningStats>& class1,
                                   const std::vector<RunningStats>& observed) {
  if (class0.empty() || class1.empty() || observed.empty()) {
    return Status::InvalidArgument("FitClassMixture: empty statistics (class0 " +
                                   std::to_string(class0.size()) + ", class1 " +
                                   std::to_string(class1.size()) + ", observed " +
                                   std::to_string(observed.size()) + " features)");
  }
  if (class0.size() != observed.size() || class1.size() != observed.size()) {
    return Status::InvalidArgument("FitClassMixture: feature counts differ: class0 " +
                                   std::to_string(class0.size()) + ", class1 " +
                                   std::to_string(class1.size()) + ", observed " +
                                   std::to_string(observed.size()));
  }
  REFLEX_RETURN_IF_ERROR(CheckCounts(class0, "class0"));
  REFLEX_RETURN_IF_ERROR(CheckCounts(class1, "class1"));
  REFLEX_RETURN_IF_ERROR(CheckCounts(observed, "observed"));

  MixtureFit fit;
  if (!FitWeightOnMeans(class0, class1, observed, &fit.weight)) {
    fit.weight = FitWeightOnVariances(class0, class1, observed);
  }
  for (size_t j = 0; j < observed.size(); ++j) {
    const FeatureMixture residuals = Residuals(class0[j], class1[j], observed[j], fit.weight);
    const double z = std::max(std::abs(residuals.mean_z), std::abs(residuals.variance_z));
    if (j == 0 || z > fit.max_residual_z) {
      fit.max_residual_z = z;
      fit.worst_feature = j;
    }
  }
  return fit;
}

}  // namespace reflex
