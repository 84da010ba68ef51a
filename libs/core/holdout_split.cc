#include "core/holdout_split.h"

#include "core/checksum.h"

namespace reflex {

HoldoutSplit SplitLabelledRows(const int8_t* labels, size_t n_rows, int num_labels, const float* values,
                               size_t per_row, uint64_t seed, double fraction) {
  HoldoutSplit s;
  s.train.assign(n_rows, 0.0f);
  s.holdout.assign(n_rows, 0.0f);
  if (labels == nullptr) return s;
  for (size_t i = 0; i < n_rows; ++i) {
    if (labels[i] < 0 || labels[i] >= num_labels) continue;
    ++s.labelled;
    const uint64_t hash = Fnv1a64(values + i * per_row, per_row * sizeof(float), seed ^ 0x9E3779B97F4A7C15ull);
    const double u = static_cast<double>(hash % 1000000) / 1000000.0;
    if (u < fraction) {
      s.holdout[i] = 1.0f;
      ++s.held_out;
    } else {
      s.train[i] = 1.0f;
    }
  }
  return s;
}

}  // namespace reflex
