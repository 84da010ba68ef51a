// The randomised base task of the drift zoo (zoo_scenarios.h) and what a drift does to its rows.
//
// A ZooTask is a binary task over ten features x0..x9, drawn from a seed. Every feature is
// x = loc + scale * z with loc in [-1, 1] and scale in [0.7, 1.5]; z ~ N(0, 1) for negatives and
// for the nuisance features. Three or four signal features carry the class, each in one of three
// ways (at least one of them non-linear):
//   shift    positives z ~ N(mu, 1), |mu| in [1.0, 1.6]
//   bimodal  positives z ~ N(+-m, 0.5), the sign drawn per row, m in [1.6, 2.2] (both tails)
//   spread   positives z ~ N(0, s), s in [2.0, 2.8]
// The clean positive rate is drawn in [0.1, 0.3].
//
// A DriftPlan says what a drift does at intensity w in [0, 1] (0: the clean distribution):
//   gain/offset  x -> x + w ((gain - 1) x + offset), per feature, in raw units
//   noise_sd     x -> x + w N(0, noise_sd^2), per feature, raw units
//   stuck        x -> (1 - w) x + w value
//   rotation     (z_a, z_b) turned by w * radians about the origin of z
//   prior        the positive rate moves to (1 - w) p + w prior; P(x | y) is unchanged
//   concept      a label flips with probability w * flip_probability where z_feature > threshold;
//                P(x) is unchanged
// Plain values; the functions share no state and are deterministic in the generator passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/csv.h"

namespace reflex::sim {

struct ZooSignal {
  enum class Kind { kShift, kBimodal, kSpread };
  size_t feature = 0;
  Kind kind = Kind::kShift;
  double strength = 0;  // mu, m or s above
};

struct ZooTask {
  std::vector<std::string> feature_names;  // x0..x9
  std::vector<double> loc, scale;          // per feature
  std::vector<ZooSignal> signals;          // the features that carry the class
  double prior = 0.2;                      // clean positive rate
  size_t dims() const { return feature_names.size(); }
  std::string Describe() const;            // e.g. "prior 0.18; signal x3 shift 1.2, x7 bimodal 1.9, ..."
};

ZooTask DrawZooTask(std::mt19937_64& rng);

struct DriftPlan {
  std::vector<double> gain, offset, noise_sd;  // per feature; identity: 1, 0, 0
  struct Stuck { size_t feature; double value; };
  struct Rotation { size_t a, b; double radians; };
  struct Concept { size_t feature; double threshold; double flip_probability; };
  std::optional<Stuck> stuck;
  std::optional<Rotation> rotation;
  std::optional<double> prior;
  std::optional<Concept> concept;
};

// The plan that changes nothing, sized for `task`.
DriftPlan IdentityPlan(const ZooTask& task);

// Appends `n` rows of `task` under `plan` at intensity `w` to `out` (whose feature names must be
// the task's or empty; they are set).
void AppendRows(const ZooTask& task, const DriftPlan& plan, double w, size_t n, std::mt19937_64& rng,
                LabeledData& out);

}  // namespace reflex::sim
