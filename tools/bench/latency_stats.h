// LatencyStats: percentiles of a set of latency samples (exact: the samples are kept and
// sorted; a benchmark run holds at most a few million).
//
// Plain value, not thread-safe. Units: whatever the samples are in (the suites use microseconds).
#pragma once

#include <cstddef>
#include <vector>

namespace reflex::bench {

class LatencyStats {
 public:
  void Add(double sample) { samples_.push_back(sample); sorted_ = false; }
  void AddAll(const std::vector<double>& samples);
  size_t count() const { return samples_.size(); }
  // q in [0, 1] (0.99 = p99), nearest rank; 0 when there are no samples.
  double Quantile(double q);
  double Max();
  double Mean() const;

 private:
  void Sort();
  std::vector<double> samples_;
  bool sorted_ = true;
};

}  // namespace reflex::bench
