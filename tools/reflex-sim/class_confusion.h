// ClassConfusion: a K x K confusion matrix of a multi-class classifier (rows: truth, columns:
// prediction) and its macro-averaged F1. A plain value; merge per-batch copies into totals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace reflex::sim {

// A K x K confusion matrix (rows: truth, columns: prediction).
struct ClassConfusion {
  size_t k = 0;
  std::vector<uint64_t> counts;
  explicit ClassConfusion(size_t classes = 0) : k(classes), counts(classes * classes, 0) {}
  void Add(size_t truth, size_t predicted) { ++counts[truth * k + predicted]; }
  void Merge(const ClassConfusion& o) {
    for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
  }
  // Macro F1 over the classes that occur (as truth or prediction).
  double MacroF1() const {
    double sum = 0;
    size_t present = 0;
    for (size_t c = 0; c < k; ++c) {
      uint64_t tp = counts[c * k + c], row = 0, col = 0;
      for (size_t j = 0; j < k; ++j) { row += counts[c * k + j]; col += counts[j * k + c]; }
      if (row + col == 0) continue;
      ++present;
      sum += 2.0 * tp / static_cast<double>(row + col);
    }
    return present ? sum / present : 0.0;
  }
};

}  // namespace reflex::sim
