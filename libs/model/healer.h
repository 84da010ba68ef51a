// Healer: turns a heal job into a candidate adapter version and a report (docs/DESIGN.md §3).
//
// A heal never touches the serving copy: it copies the job's base adapter into fresh tensors,
// runs a few Adam steps on the adapter only (the backbone and head are frozen: their outputs
// are computed without gradients and their parameters never enter the optimiser), and returns
// a new sealed AdapterVersion only when every weight and loss stayed finite and the validation
// gate accepted it. Otherwise the outcome carries no candidate and the report says why.
//
// Steps (heal_binary.h): (1) diagnose the shift (core/shift_diagnosis.h) and choose a strategy;
// (2) build its closed-form target (heal_alignment.cc: re-standardised features;
// heal_label_shift.cc: prior-corrected posteriors, or version 0 and a new cut); (3) minimise
// (heal_loss.h)
//   w_distill * distill + w_label * BCE(labels, conditional pos weight) + w_rule * BCE(trusted
//   rules) + w_entropy * entropy + w_moment * moments + w_proximal * ||theta - theta_parent||^2;
// (4) measure candidate and parent on the same rows; (5) gate (core/validation_gate.h).
// Labelled heals then place the decision (heal_labels.cc, core/operating_point.h, HealPolicy::operating_point):
// a labels-only heal re-fits from version 0 and moves its cut or flags a band; a labelled heal
// under a diagnosed label shift runs no step at all: version 0 with its cut moved by the labels.
// (6) Labels never make a heal worse than it would be without them: a labelled binary heal also
// builds the candidate the same job makes with its labels hidden. That candidate (when its own
// gate accepts it; else the parent) is the default; the parent, version 0 and the labelled one
// replace it only when they lower the per-row held-out label loss beyond its noise on the job's
// held-out labelled rows (core/holdout_split.h, seeded by job.seed; core/candidate_choice.h).
// When the parent wins no version is made. The caller must give rows from after the drift onset only:
// the held-out rows stand for the data the version will serve.
//
// Threading: Heal() is a blocking call meant for a background thread or a detached actor; it
// only reads the model and calibration, so several heals may run at once. Runs on CUDA when
// `use_cuda` is set and LibTorch sees a device, else on CPU.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "core/heal_policy.h"
#include "core/rules.h"
#include "core/shift_diagnosis.h"
#include "core/status.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"

namespace reflex {

struct HealJob {
  AdapterVersion base;          // the version being healed (becomes the parent)
  std::vector<float> rows;      // recent rows, row-major, n_rows x input dims
  size_t n_rows = 0;
  // Multi-class only, optional: the rows' backbone outputs (n_rows x adapter width), when the
  // caller already has them; then `rows` may be empty.
  std::vector<float> hidden;
  // Per row 0/1 (binary) or a class index (multi-class), or -1 when unknown; empty when no row
  // is labelled.
  std::vector<int8_t> labels;
  // Binary models: positive/negative rules over `rows`. Multi-class models: class rules
  // (RuleSet::multiclass, the model's classes) over `rows`, which the job must then carry.
  const RuleSet* rules = nullptr;
  HealPolicy policy;
  uint64_t new_version = 0;     // version number the candidate gets if accepted
  uint64_t epoch = 0;           // coordinator epoch stamped on the candidate
  uint64_t seed = 0;            // holdout split: mixed into a hash of each row (core/holdout_split.h); keep it fixed per stream
  bool use_cuda = false;
  // Test hook: called after every optimiser step with the step index (e.g. to hold a heal).
  std::function<void(int)> on_step;
};

struct HealReport {
  bool accepted = false;
  std::string reason;                 // gate verdict, or why the heal stopped
  ShiftDiagnosis diagnosis;
  std::string device = "cpu";
  int steps_run = 0;
  double loss_first = 0, loss_last = 0;
  double candidate_positive_rate = 0, current_positive_rate = 0, expected_positive_rate = 0;
  // The gate's positive-rate bounds (core/validation_gate.h, PositiveRateBounds) and, with labels,
  // the labelled prior they rest on.
  double positive_rate_lo = 0, positive_rate_hi = 1, labelled_prior = 0;
  int trusted_rules = 0, distrusted_rules = 0;
  size_t labelled_rows = 0;
  double logit_offset = 0;            // δ added to every logit by the operating-point step (0: none)
  std::string operating_point_note;   // the band the operating-point step flagged, or why it was skipped
  double duration_ms = 0;
  // Multi-class heals: classes, and the predicted-class distribution's total variation from the
  // clean one for candidate and parent.
  uint32_t num_classes = 1;
  double candidate_class_tv = 0, current_class_tv = 0;
  bool aligned = false;  // the closed-form re-standardisation of the backbone output was used
  // Labelled binary heals: which candidate won the held-out comparison (core/candidate_choice.h):
  // 0 the parent (no new version), 1 the label-free candidate, 2 the labelled one, 3 version 0;
  // -1 when no choice was made (label-free and multi-class heals). choice_figures: the held-out
  // rows and each candidate's mean held-out loss and gain bound ("holdout_rows",
  // "holdout_loss_parent", "gain_bound_labelled", ...), also in Metrics().
  int chosen = -1;
  std::map<std::string, double> choice_figures;
  // Numbers behind the verdict, for events and the registry ("positive_rate", "label_loss", ...).
  std::map<std::string, double> Metrics() const;
};

struct HealOutcome {
  std::optional<AdapterVersion> candidate;  // set only when accepted
  HealReport report;
};

// Errors (Status) are for bad jobs (wrong dims, too few rows) and library failures; a rejected
// candidate is a normal outcome, not an error. Multi-class models go to HealMulticlass. A
// labelled binary heal costs about two label-free ones (the label-free candidate is built too).
Result<HealOutcome> Heal(const HealableModel& model, const HealCalibration& calibration, const HealJob& job);

// The multi-class heal (multiclass_healer.cc). No shift diagnosis: (1) when w_distill > 0, the
// closed-form target re-standardises each backbone-output dimension from the job's moments to
// the clean calibration moments (like BN-adapt, but at the adapter's input); with align_inputs,
// an image model and the job's rows, it first re-standardises each image's brightness and
// contrast (input_alignment.h) and takes the backbone output of the aligned images. The first
// heal starts from that per-dimension affine map of the served input embedded exactly in the
// adapter (W1 = diag(eps/s), W2 = diag((a-1) s / (scale eps)), tanh in its linear range); later
// heals continue from the parent at a third of the learning rate. (2) distill_steps Adam steps
// at distill_lr minimise w_distill * regression to the target (with labels, scaled by the
// target's accuracy on the labelled training rows squared) + w_label * cross-entropy (labelled
// rows) + w_rule * cross-entropy toward the weak class labels of trusted class rules
// (core/class_rule_trust.h) + w_entropy * entropy (rows below entropy_filter nats) + w_diversity *
// KL(mean prediction || clean class distribution) + w_moment * moments + w_proximal * L2 toward
// the start. Without w_distill, `steps` Adam steps at `lr` start from the parent with the same
// terms (a Tent-style arm sets only w_entropy). (3) The gate compares predicted-class
// distributions instead of positive rates, the moment distance (label-free only), the trusted
// rules' agreement and, with labels, the held-out label loss.
Result<HealOutcome> HealMulticlass(const HealableModel& model, const HealCalibration& calibration, const HealJob& job);

// Whether this process's LibTorch can see a CUDA device.
bool CudaAvailable();

}  // namespace reflex
