// HealPolicy: every knob of a heal, in one validated value, grouped by concern.
//
// The coordinator owns the fleet's policy and operators change it with `reflexctl policy set`;
// reflex-sim gives each healed arm a copy. A policy is a plain value (copy it; no locking).
// Set() validates a key and a value given as text and refuses an unknown key or an out-of-range
// value with the reason, so a bad `policy set` never reaches a healer.
//
// Units: learning rates are Adam step sizes; rates are fractions in [0, 1]; z values are in
// standard deviations; weights are dimensionless multipliers of their loss terms.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/operating_point.h"
#include "core/status.h"

namespace reflex {

enum class HealMode { kAuto, kManual, kFrozen };
const char* HealModeName(HealMode mode);

// The policy has four concerns, each its own struct, so that a consumer takes only the knobs it
// reads: the heal controller its triggers (control/heal_controller.h ControllerConfig::FromPolicy),
// the diagnosis its diagnosis knobs (core/shift_diagnosis.h), the gate its bounds
// (core/validation_gate.h); the healer's optimisation reads the loss and step knobs. HealPolicy
// joins them (by inheritance, so `policy.min_rows` reads the same wherever a whole policy is at
// hand) with one flat key space for `policy set` and config files: every key belongs to exactly
// one concern.

// When to heal, when a healed version is unhealthy, when drift is over (the heal controller).
struct TriggerPolicy {
  HealMode mode = HealMode::kAuto;
  double fidi_threshold = 1.0;        // FIDI max z (windowed mean shift, in clean sd) above which drift is declared
  double conflict_threshold = 0.30;   // rule-conflict rate (conflicts / rows) that also triggers a heal
  double prior_shift_threshold = 0.05;// |prior estimate - its clean value| that also triggers a heal (and
                                      // more than label_signal_z of the estimate's standard errors)
  int min_rows = 300;                 // rows since the onset before the first heal of an episode
  int cooldown_batches = 0;           // reflex-sim: batches to wait after a heal before the next one
  int cooldown_ms = 10000;            // cluster: milliseconds after a heal decision before the next
  int window_rows = 500;              // most recent rows a heal learns from
  // A healed version is worse than version 0 when, on the same labelled rows, it is significantly
  // less accurate (McNemar) or its F1's upper bound lies more than rollback_f1_drop below v0's.
  double rollback_f1_drop = 0.08;
  // Labels signal drift when version 0's labelled accuracy is significantly below its clean
  // accuracy and by more than this (the clean figure is measured on the training rows).
  double label_accuracy_drop = 0.10;
  int drift_gone_batches = 5;  // x 100 rows without a label-free drift signal end a drift (return to v0)
};

// How a heal optimises the adapter: steps, step sizes and the loss terms' weights.
struct OptimisationPolicy {
  int steps = 5;                 // Adam steps of the gradient terms (label, rule, entropy, moment)
  double lr = 0.003;
  int distill_steps = 100;       // Adam steps when a closed-form target (alignment, prior) is distilled
  double distill_lr = 0.01;
  double w_label = 1.0;          // BCE on labelled rows
  double label_pos_weight = -1;  // < 0: the original's conditional weight; otherwise a fixed weight
  double w_rule = 0.5;           // BCE toward weak labels of trusted rules
  double w_entropy = 0.0;        // entropy minimisation on confident rows (the image policy turns it on)
  double entropy_filter = 0.4;   // only rows with entropy (nats) below this count in the entropy term
  double w_moment = 0.0;         // pull adapter-output mean/var toward clean calibration moments
  double w_distill = 1.0;        // regression toward the closed-form target (with labels: only when they confirm it)
  double w_synthetic = 1.0;      // distillation on inverse-aligned clean sample rows (covariate heals)
  double w_proximal = 0.01;      // L2 toward the parent adapter
  double w_diversity = 0.0;      // multi-class: KL(mean prediction || clean predicted class distribution)
  // Operating point (labels-only and labelled label-shift heals; core/operating_point.h). A
  // labelled heal with no closed-form target the labels confirm re-fits from version 0 and then
  // moves every logit by one offset: expected_accuracy_at_f1 takes the most accurate threshold
  // whose expected F1 (calibrated on the labelled training rows, never the holdout) is at most
  // operating_f1_tolerance below version 0's on the same rows, or, when the calibrated
  // probability peaks inside the clean score's range and that is more accurate at the same F1
  // floor, flags a band of the clean score instead (model/score_band.h); accuracy_at_f1 takes
  // thresholds on raw counts; none keeps the threshold the gradient steps left (and heals from the
  // parent). A labelled heal under a diagnosed label shift takes version 0 itself and lets the same
  // rule place its cut (Platt degree 1, no band, no gradient step); with none it distils the
  // prior-corrected posteriors instead.
  OperatingPoint operating_point = OperatingPoint::kExpectedAccuracyAtF1;
  // F1 a labels-only heal may give up for accuracy: the do-no-harm bound (a heal never ends more
  // than 0.01 below version 0 in accuracy or F1). Chosen on the drift zoo: at 0.03 labelled heals
  // of concept drift gave up 0.011-0.019 F1 for accuracy; at 0.01 nothing else moved by more
  // than 0.01 (reflex-sim --zoo --seeds 3 --families concept,recurring,offset,label_up,label_down,
  // label_majority,covariate_label,gain_offset --policy operating_f1_tolerance=0.01, 2026-12-04).
  double operating_f1_tolerance = 0.01;
};

// How a heal tells covariate drift from label shift, and what it realigns.
struct DiagnosisPolicy {
  double align_min_shift = 0.25;     // realign a feature when |mean shift| / sigma or |log std ratio| exceeds this
  int align_inputs = 0;              // multi-class image models, 1: re-standardise each image's brightness and
                                     // contrast to the clean average before the backbone (the heal's target)
  double recentre_factor = 2.0;      // with align_inputs: re-centre images when their centroid spread exceeds this
                                     // multiple of the clean spread (0: never)
  // Label shift only if the class-mixture fit's worst residual z is below this (also the bound of
  // the labelled "moments unchanged" checks). 3.0 is the Bonferroni bound for the ~20 moments a
  // 10-feature fit compares (two per feature) at a 5% family-wise error: a true label shift rarely
  // exceeds it, while a covariate drift that only mimics one (seed's V14) usually does.
  double mixture_tolerance_z = 3.0;
  double em_agreement = 0.15;        // the prior estimate and the mixture weight must agree within this at 0.5,
                                     // within this * 4 m (1 - m) at their midpoint m (core/shift_diagnosis.h)
  double rule_trust_tolerance = 0.15;// a rule is trusted when its firing rate is within this of the expected rate
};

// The validation gate's bounds (core/validation_gate.h), for healer and coordinator alike.
struct GatePolicy {
  // The positive-rate bounds come from the evidence (the clean rate, a diagnosed prior, the
  // labelled prior: PositiveRateBounds), scaled by this tolerance: label-free, the rate may move
  // by this fraction of the smaller class from the expected rate; labelled, up by this fraction of
  // the labelled negatives or down by this fraction of the labelled positives.
  double positive_rate_tolerance = 0.5;
  double max_moment_ratio = 1.05;        // candidate's moment distance <= current's * this (covariate heals)
  double max_rule_agreement_drop = 0.10; // trusted-rule agreement may drop at most this much
  double max_label_loss_ratio = 1.02;    // labelled: held-out loss <= current's * this
  double holdout_fraction = 0.2;         // labelled rows kept out of training to validate on
  double confidence_z = 1.645;           // standard errors of noise every evidence bound allows (1.645: one-sided
                                         // 95%): a labelled heal's more complex candidate replaces a simpler one
                                         // only when its paired held-out gain is above zero by this many
                                         // (core/candidate_choice.h); positive-rate bounds widen by this many
                                         // standard errors of the rates they compare (core/validation_gate.h)
  double max_class_tv = 0.25;            // multi-class: predicted-class distribution may be at most this total
                                         // variation from the clean one (or no worse than the current version's)
};

struct HealPolicy : TriggerPolicy, OptimisationPolicy, DiagnosisPolicy, GatePolicy {
  // Sets one key from text. Unknown key or invalid value -> InvalidArgument naming both and why.
  Status Set(const std::string& key, const std::string& value);
  // Every key with its current value as text, sorted by key.
  std::map<std::string, std::string> ToMap() const;
  // The names of all keys.
  static std::vector<std::string> Keys();
  // Checks cross-field constraints (min <= max, ...).
  Status Validate() const;
};

}  // namespace reflex
