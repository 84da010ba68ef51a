// Mergeable per-feature statistics: count, mean and M2 (sum of squared deviations from the
// mean), updated one value at a time with Welford's algorithm and merged exactly with the
// parallel update of Chan, Golub & LeVeque. Replicas keep a FeatureStats per batch stream and
// ship it; the coordinator merges them, and the merge equals computing over the whole stream
// (up to floating-point rounding).
//
// Ownership: plain values, copyable and movable. Thread-safety: none; one owner at a time.
// Units: whatever the feature columns are in; variance is in squared units, population
// (divides by count, not count - 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace reflex {

// Statistics of one stream of doubles.
struct RunningStats {
  uint64_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;  // sum over values of (x - mean)^2

  void Add(double x);
  // Combines the statistics of two disjoint streams (Chan et al.); exact up to rounding.
  void Merge(const RunningStats& other);
  // Population variance m2 / count; 0 when count < 2.
  double variance() const;
  double stddev() const;
};

// One RunningStats per feature column of a row-major float matrix.
class FeatureStats {
 public:
  explicit FeatureStats(size_t dims = 0);

  size_t dims() const { return features_.size(); }

  // `row` points at dims() values.
  void AddRow(const float* row);
  // `rows` is row-major n_rows x dims().
  void AddRows(const float* rows, size_t n_rows);

  // Adds `other`'s rows to these statistics. InvalidArgument when the dims differ.
  Status Merge(const FeatureStats& other);

  // i < dims(); aborts otherwise.
  const RunningStats& feature(size_t i) const;
  const std::vector<RunningStats>& features() const { return features_; }
  // Rows added (directly or through Merge).
  uint64_t count() const { return count_; }

 private:
  std::vector<RunningStats> features_;
  uint64_t count_ = 0;
};

}  // namespace reflex
