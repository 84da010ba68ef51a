// Confusion counts of a binary classifier and the metrics derived from them.
//
// "Positive" is the class the model flags (fraud, defect, ...). Every ratio is 0 when its
// denominator is 0, so an empty Confusion reports zeros rather than NaN.
//
// Ownership: a plain value. Thread-safety: none; merge per-thread copies instead of sharing.
// Units: counts are rows; ratios are fractions in [0, 1].
#pragma once

#include <cstdint>

namespace reflex {

struct Confusion {
  uint64_t tp = 0;  // predicted positive, actually positive
  uint64_t fp = 0;  // predicted positive, actually negative
  uint64_t tn = 0;  // predicted negative, actually negative
  uint64_t fn = 0;  // predicted negative, actually positive

  void Add(bool predicted_positive, bool actual_positive);
  void Merge(const Confusion& other);

  uint64_t total() const { return tp + fp + tn + fn; }
  double accuracy() const;        // (tp + tn) / total
  double precision() const;       // tp / (tp + fp)
  double recall() const;          // tp / (tp + fn)
  double f1() const;              // 2 tp / (2 tp + fp + fn)
  double positive_rate() const;   // (tp + fp) / total: the rate at which the model flags rows
};

}  // namespace reflex
