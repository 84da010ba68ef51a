// Holdout split: which labelled rows of a heal job train a candidate and which judge it.
//
// One rule for the binary and the multi-class healer: a labelled row goes to the holdout when a
// hash of its values, seeded by the job's seed, falls below `fraction`. A row's side depends on
// nothing but its own values and the seed, so with a seed kept fixed per stream a row stays on
// the same side in every heal (the gate never judges a version on rows it was trained on), and
// the same job always splits the same way.
//
// Plain function over caller-owned inputs; no state, safe from any thread. `fraction` is a
// fraction in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace reflex {

struct HoldoutSplit {
  std::vector<float> train, holdout;  // per row, 1 when the row is labelled and on that side, else 0
  size_t labelled = 0;                // rows whose label is in [0, num_labels)
  size_t held_out = 0;                // of those, rows in the holdout
};

// labels: per row, a label in [0, num_labels) or anything else for "unknown" (may be null: no
// row is labelled). values: per row `per_row` floats (the features, or the backbone outputs).
HoldoutSplit SplitLabelledRows(const int8_t* labels, size_t n_rows, int num_labels, const float* values,
                               size_t per_row, uint64_t seed, double fraction);

}  // namespace reflex
