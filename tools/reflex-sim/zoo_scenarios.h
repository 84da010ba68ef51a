// The drift zoo's tabular scenario families: each is a wide family of drifts, every parameter
// (features affected, magnitudes, timing) drawn from the seed, over a base task drawn from the
// same seed (zoo_task.h; the same seed gives every family the same task and training rows).
//
//   name            category   what the stream does after the clean prefix
//   offset          covariate  1-3 features (one a signal) move by +-[1, 3] of their scale
//   gain_offset     covariate  1-3 features: x -> g x + b, g in [1/2.2, 1/1.3] or [1.3, 2.2], |b| in [0.5, 2] scales
//   unit_change     covariate  one signal feature changes units: C->F (1.8x + 32), F->C, kg->lb or km->miles
//   ramp            covariate  an offset (1-3 features, +-[1.5, 3] scales) ramps in linearly over 25-60% of the stream
//   recurring       covariate  the same kind of offset comes and goes (3-6 batches on, 2-5 off) over the
//                              middle of the stream; the final third is clean
//   label_up        label      the positive rate rises by x[1.8, 2.5] (at most 0.5); P(x | y) unchanged
//   label_down      label      the positive rate falls by x[0.25, 0.5]
//   label_majority  label      the positive rate becomes [0.55, 0.7]: positives are the majority
//   covariate_label mixed      an offset on 1-2 features and a rise or fall of the positive rate together
//   rotation        covariate  two signal features are rotated by +-[30, 90] degrees (in standard units)
//   noise           covariate  1-3 features get added noise of sd [0.7, 2] scales
//   stuck           covariate  one signal feature is stuck at a constant (its loc + [-1.5, 1.5] scales)
//   concept         concept    P(y | x) changes, P(x) does not: where a signal feature's z exceeds a
//                              threshold in [0, 1], labels flip with probability [0.5, 0.9]
//   none            none       no drift: the stream is distributed as the training rows
//
// Every scenario has `train_rows` clean labelled rows, a stream of `stream_batches` batches of
// `batch_size` rows whose first `clean_batches` are clean (the onset is mid-stream; 32 batches,
// 8 clean by default: a heal-heavy run costs 10-20 s of CPU, so 3 seeds of every family fit the
// zoo's time budget), and
// `oracle_rows` labelled rows of the drifted distribution at full intensity (for `recurring`, the
// drifted state; for `none`, the clean one) to train the oracle arm.
// Plain values; deterministic in (family, seed, shape); no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "scenarios.h"
#include "zoo_task.h"

namespace reflex::sim {

struct ZooShape {
  size_t train_rows = 5000;
  size_t oracle_rows = 5000;
  size_t stream_batches = 32;
  size_t clean_batches = 8;
  size_t batch_size = 100;
};

// A small shape for quick runs and tests: 2000 training and oracle rows, 16 batches, 4 clean.
ZooShape QuickZooShape();

struct ZooFamily {
  std::string name;
  std::string category;  // covariate, label, mixed, concept, none
};

// Every family, in the order of the table above.
const std::vector<ZooFamily>& ZooFamilies();

struct ZooScenario {
  std::string family, category;
  uint64_t seed = 0;
  ZooTask task;
  DriftPlan plan;
  std::vector<double> intensity;         // per stream batch, in [0, 1]; 0 = clean
  std::map<std::string, double> params;  // the drawn drift parameters, e.g. "offset.x3" (raw units)
  std::string drift;                     // one line: the drift as drawn
  std::string note;                      // empty, or what to know when reading the results
  ScenarioData data;                     // what RunExperiment streams; name "zoo/<family>"
};

// InvalidArgument for an unknown family (the message lists them) or a shape whose clean
// prefix does not leave drifted batches.
Result<ZooScenario> MakeZooScenario(const std::string& family, uint64_t seed, const ZooShape& shape = {});

}  // namespace reflex::sim
