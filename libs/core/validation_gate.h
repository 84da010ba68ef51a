// Validation gate: decides whether a heal's candidate adapter may become a version.
//
// The healer measures the candidate and the current version on the same recent rows and hands
// the figures here; the verdict is a pure function of them and the policy, so the same figures
// always give the same answer and every refusal names its reason. Checks (DESIGN.md §3):
// finite weights and loss; positive rate within absolute bounds, and (label-free) near the rate
// the diagnosis expects, which blocks collapse to one class and rules invalidated by drift;
// moment distance not worse (covariate heals); trusted-rule agreement not much worse; and when
// labels exist, the held-out labelled loss not worse. Multi-class: instead of the positive rate,
// the predicted-class distribution must stay within max_class_tv of the clean one, or at least
// not move further from it than the current version's.
// Thread-compatible plain functions. Rates are fractions in [0, 1].
#pragma once

#include <optional>
#include <string>

#include "core/heal_policy.h"

namespace reflex {

struct GateInputs {
  bool finite = true;                   // every candidate weight and the final loss are finite
  bool labelled = false;                // the heal had labelled rows
  double labelled_prior = 0;            // positive fraction among them (labelled heals)
  double candidate_positive_rate = 0;   // on the recent rows
  // The current version's rate on the same rows. When set, a labelled candidate outside the
  // bounds passes that check if it is strictly closer to them than the current version: it
  // repairs, it does not harm, and the held-out labelled loss still judges it (a deployed model
  // that already flags too much could otherwise never be healed). Label-free candidates, which
  // nothing else judges as directly, must stay inside the bounds.
  std::optional<double> current_positive_rate;
  double expected_positive_rate = 0;    // what the diagnosis expects (clean rate, or new prior)
  std::optional<double> candidate_moment_distance, current_moment_distance;
  std::optional<double> candidate_rule_agreement, current_rule_agreement;  // trusted rules only
  std::optional<double> candidate_label_loss, current_label_loss;          // held-out labelled rows
  // Multi-class models: the positive-rate checks are replaced by the total variation distance of
  // the predicted-class distribution from the clean one (0 = same, 1 = disjoint).
  bool multiclass = false;
  double candidate_class_tv = 0, current_class_tv = 0;
};

struct GateVerdict {
  bool accept = false;
  std::string reason;  // "accepted: ..." or the first failed check, with its figures
};

GateVerdict ValidateCandidate(const GateInputs& in, const HealPolicy& policy);

}  // namespace reflex
