#include "core/welford.h"

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

namespace reflex {

void RunningStats::Add(double x) {
  ++count;
  const double delta = x - mean;
  mean += delta / static_cast<double>(count);
  m2 += delta * (x - mean);
}

void RunningStats::Merge(const RunningStats& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  const double n_a = static_cast<double>(count);
  const double n_b = static_cast<double>(other.count);
  const double n = n_a + n_b;
  const double delta = other.mean - mean;
  mean += delta * (n_b / n);
  m2 += other.m2 + delta * delta * (n_a * n_b / n);
  count += other.count;
}

double RunningStats::variance() const {
  if (count < 2) return 0.0;
  return m2 / static_cast<double>(count);
}

double RunningStats::stddev() const { return std::sqrt(variance()); }

FeatureStats::FeatureStats(size_t dims) : features_(dims) {}

void FeatureStats::AddRow(const float* row) {
  for (size_t i = 0; i < features_.size(); ++i) features_[i].Add(row[i]);
  ++count_;
}

void FeatureStats::AddRows(const float* rows, size_t n_rows) {
  const size_t d = features_.size();
  for (size_t r = 0; r < n_rows; ++r) AddRow(rows + r * d);
}

Status FeatureStats::Merge(const FeatureStats& other) {
  if (other.dims() != dims()) {
    return Status::InvalidArgument("cannot merge feature statistics of " +
                                   std::to_string(other.dims()) + " features into statistics of " +
                                   std::to_string(dims()) + " features");
  }
  for (size_t i = 0; i < features_.size(); ++i) features_[i].Merge(other.features_[i]);
  count_ += other.count_;
  return Status::Ok();
}

const RunningStats& FeatureStats::feature(size_t i) const {
  if (i >= features_.size()) {
    std::cerr << "FeatureStats::feature(" << i << ") out of range (dims " << features_.size()
              << ")\n";
    std::abort();
  }
  return features_[i];
}

}  // namespace reflex
