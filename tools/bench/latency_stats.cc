#include "latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace reflex::bench {

void LatencyStats::AddAll(const std::vector<double>& samples) {
  samples_.insert(samples_.end(), samples.begin(), samples.end());
  sorted_ = false;
}

void LatencyStats::Sort() {
  if (!sorted_) std::sort(samples_.begin(), samples_.end());
  sorted_ = true;
}

double LatencyStats::Quantile(double q) {
  if (samples_.empty()) return 0;
  Sort();
  q = std::clamp(q, 0.0, 1.0);
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples_.size())));
  return samples_[rank == 0 ? 0 : rank - 1];
}

double LatencyStats::Max() {
  if (samples_.empty()) return 0;
  Sort();
  return samples_.back();
}

double LatencyStats::Mean() const {
  if (samples_.empty()) return 0;
  return std::accumulate(samples_.begin(), samples_.end(), 0.0) / static_cast<double>(samples_.size());
}

}  // namespace reflex::bench
