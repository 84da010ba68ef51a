// Validation gate: decides whether a heal's candidate adapter may become a version.
//
// The healer measures the candidate and the current version on the same recent rows and hands
// the figures here; the verdict is a pure function of them and the policy, so the same figures
// always give the same answer and every refusal names its reason. Checks (docs/DESIGN.md §3):
// finite weights and loss; positive rate within the bounds the evidence allows
// (PositiveRateBounds below: around the clean rate, a diagnosed new prior, or the labelled
// prior), which blocks collapse to one class and rules invalidated by drift; moment distance
// not worse (covariate heals); trusted-rule agreement not much worse; and when labels exist, the
// held-out labelled loss not worse. Multi-class: instead of the positive rate, the
// predicted-class distribution must stay within max_class_tv of the clean one, or at least not
// move further from it than the current version's. The coordinator's own admission check
// (actors/coordinator_runtime.h, AdmitCandidate) calls the same function with its own figures.
// Thread-compatible plain functions. Rates are fractions in [0, 1].
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/heal_policy.h"

namespace reflex {

// What a positive-rate bound rests on. Every figure is a measurement, none a policy constant.
struct RateEvidence {
  double clean_rate = 0;                  // the deployed model's positive rate on clean calibration data
  std::optional<double> estimated_prior;  // a diagnosed label shift's new prior (label-free estimate)
  std::optional<double> labelled_prior;   // positive fraction among the job's labelled rows
  size_t labelled_rows = 0;               // rows behind labelled_prior
  size_t measured_rows = 0;               // rows the candidate's rate is measured on (0: not counted)
};

struct RateBounds {
  double lo = 0, hi = 1;   // the candidate's positive rate must lie in [lo, hi]
  double expected = 0;     // the rate the evidence points at
  std::string basis;       // "labelled prior", "estimated prior" or "clean rate"
};

// The one place positive-rate bounds come from. The expected rate e is the labelled prior when
// labels exist (the direct measurement), else a diagnosed new prior, else the clean rate. Its
// noise is s = confidence_z * sqrt(e (1 - e) (1 / measured_rows + 1 / labelled_rows)) (each
// term only when that count is known). Label-free: [e - a - s, e + a + s] with
// a = positive_rate_tolerance * min(e, 1 - e): the rate may move by that fraction of the smaller
// class, the same for a task and its complement, so a majority-positive task is bounded like a
// minority one. Labelled: the held-out labels judge the candidate directly and an operating point
// may trade precision for recall, so the rate may move up by positive_rate_tolerance of the
// labelled negatives and down by that fraction of the labelled positives:
// [e - tol * e - s, e + tol * (1 - e) + s]. Clipped to [0, 1].
RateBounds PositiveRateBounds(const RateEvidence& evidence, const GatePolicy& policy);

struct GateInputs {
  bool finite = true;                   // every candidate weight and the final loss are finite
  bool labelled = false;                // the heal had labelled rows (evidence.labelled_prior is then set)
  RateEvidence evidence;                // what the positive-rate bounds rest on
  double candidate_positive_rate = 0;   // on the recent rows
  // The current version's rate on the same rows. When set, a labelled candidate outside the
  // bounds passes that check if it is strictly closer to them than the current version: it
  // repairs, it does not harm, and the held-out labelled loss still judges it (a deployed model
  // that already flags too much could otherwise never be healed). Label-free candidates, which
  // nothing else judges as directly, must stay inside the bounds.
  std::optional<double> current_positive_rate;
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

GateVerdict ValidateCandidate(const GateInputs& in, const GatePolicy& policy);

}  // namespace reflex
