#include "bayes_frontier.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace reflex::sim {

namespace {
double NormalPdf(double x, double mean, double sd) {
  const double z = (x - mean) / sd;
  return std::exp(-0.5 * z * z) / (sd * std::sqrt(2 * M_PI));
}
}  // namespace

SeedFrontier::SeedFrontier() {
  const double prior = 0.15, lo = -12, hi = 10, step = 0.0005;
  const size_t n = static_cast<size_t>((hi - lo) / step);
  std::vector<double> fraud(n), normal(n);
  for (size_t i = 0; i < n; ++i) {
    double v = lo + i * step;
    fraud[i] = NormalPdf(v, -2.5, 0.8) * step;
    normal[i] = NormalPdf(v, -2.2, 1.0) * step;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return fraud[a] * normal[b] > fraud[b] * normal[a];  // likelihood ratio, descending
  });
  double tpr = 0, fpr = 0;
  accuracy_.push_back(1 - prior);  // flag nothing
  f1_.push_back(0);
  for (size_t i : order) {
    tpr += fraud[i];
    fpr += normal[i];
    accuracy_.push_back(prior * tpr + (1 - prior) * (1 - fpr));
    f1_.push_back(2 * prior * tpr / (prior + prior * tpr + (1 - prior) * fpr));
  }
  best_accuracy_ = *std::max_element(accuracy_.begin(), accuracy_.end());
}

double SeedFrontier::BestF1AtAccuracy(double accuracy) const {
  double best = 0;
  for (size_t i = 0; i < accuracy_.size(); ++i) {
    if (accuracy_[i] >= accuracy) best = std::max(best, f1_[i]);
  }
  return best;
}

}  // namespace reflex::sim
