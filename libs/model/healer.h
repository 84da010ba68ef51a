// Healer: turns a heal job into a candidate adapter version and a report (DESIGN.md §3).
//
// A heal never touches the serving copy: it copies the job's base adapter into fresh tensors,
// runs a few Adam steps on the adapter only (the backbone and head are frozen: their outputs
// are computed without gradients and their parameters never enter the optimiser), and returns
// a new sealed AdapterVersion only when every weight and loss stayed finite and the validation
// gate accepted it. Otherwise the outcome carries no candidate and the report says why.
//
// Steps: (1) diagnose the shift (core/shift_diagnosis.h); (2) build the closed-form target
// (re-standardised features, or prior-corrected posteriors); (3) minimise
//   w_distill * distill + w_label * BCE(labels, conditional pos weight) + w_rule * BCE(trusted
//   rules) + w_entropy * entropy + w_moment * moments + w_proximal * ||theta - theta_parent||^2;
// (4) measure candidate and parent on the same rows; (5) gate (core/validation_gate.h).
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
  std::vector<int8_t> labels;   // per row 0/1, or -1 when unknown; empty when no row is labelled
  const RuleSet* rules = nullptr;
  HealPolicy policy;
  uint64_t new_version = 0;     // version number the candidate gets if accepted
  uint64_t epoch = 0;           // coordinator epoch stamped on the candidate
  uint64_t seed = 0;            // holdout split
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
  int trusted_rules = 0, distrusted_rules = 0;
  size_t labelled_rows = 0;
  double logit_offset = 0;            // δ added to every logit by the operating-point step (0: none)
  std::string operating_point_note;   // why the operating-point step was skipped, if it was
  double duration_ms = 0;
  // Numbers behind the verdict, for events and the registry ("positive_rate", "label_loss", ...).
  std::map<std::string, double> Metrics() const;
};

struct HealOutcome {
  std::optional<AdapterVersion> candidate;  // set only when accepted
  HealReport report;
};

// Errors (Status) are for bad jobs (wrong dims, too few rows) and library failures; a rejected
// candidate is a normal outcome, not an error.
Result<HealOutcome> Heal(const HealableModel& model, const HealCalibration& calibration, const HealJob& job);

// Whether this process's LibTorch can see a CUDA device.
bool CudaAvailable();

}  // namespace reflex
