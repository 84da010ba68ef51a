// Bayes frontier of the `seed` scenario's drift, computed from the generator's distributions:
// the best accuracy any classifier can reach, and the best F1 any classifier can reach at a
// given accuracy or more. Only V14 carries signal (the other features are N(0,1) for both
// classes), so likelihood-ratio thresholds on V14 trace every optimal trade-off.
// Computed once (about 0.1 s); immutable afterwards and safe to share.
#pragma once

#include <vector>

namespace reflex::sim {

class SeedFrontier {
 public:
  SeedFrontier();                          // integrates the drifted distributions numerically
  double BayesAccuracy() const { return best_accuracy_; }
  double BestF1AtAccuracy(double accuracy) const;  // 0 when the accuracy is unreachable

 private:
  std::vector<double> accuracy_, f1_;      // along the likelihood-ratio ordering
  double best_accuracy_ = 0;
};

}  // namespace reflex::sim
