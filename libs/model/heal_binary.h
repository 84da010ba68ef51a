// The binary heal's shared state and its strategies (internal to libs/model: names LibTorch).
//
// Heal() (healer.cc) runs one binary heal in steps: PrepareBinaryHeal (the rows' backbone
// outputs, version 0's probabilities, the shift diagnosis, the holdout split, the trusted rules)
// -> ChooseStrategy -> the strategy's closed-form target, if any (heal_alignment.cc,
// heal_label_shift.cc) -> the Adam steps on one loss (heal_loss.h) -> the operating point of a
// labelled strategy (heal_labels.cc) -> one gate call. Each file owns one strategy's reasoning.
//
// Ownership: a BinaryHeal borrows the model, calibration and job for the duration of one heal
// and owns its tensors. Thread-compatible: one heal, one thread (several heals may run at once,
// each with its own BinaryHeal). Units: probabilities in [0, 1], logits in nats.
#pragma once

#include <vector>

#include "core/holdout_split.h"
#include "model/healer.h"
#include "model/model_parts.h"

namespace reflex {

// A heal with fewer labelled rows than this treats them as unlabelled.
constexpr size_t kMinLabelledRows = 10;

// The rows of one heal as tensors (CPU).
struct HealRows {
  torch::Tensor x, hidden;                 // [n, in], backbone output [n, width]
  torch::Tensor labels;                    // [n] float 0/1 (valid where labelled)
  torch::Tensor train_mask, holdout_mask;  // labelled rows used to train / to validate
  torch::Tensor weak_labels, weak_mask;    // trusted-rule labels (undefined without rules)
};

struct BinaryHeal {
  const HealableModel& model;
  const HealableModel::Parts& parts;
  const HealCalibration& cal;
  const HealJob& job;
  const HealPolicy& policy;
  size_t dims = 0;
  BatchView view{};
  torch::Device device = torch::Device(torch::kCPU);
  AdapterTensors anchor{}, parent{};  // version 0 and the job's base
  HealRows r{};
  const ShiftDiagnosis* diag = nullptr;  // the report's diagnosis (set by PrepareBinaryHeal)
  std::vector<float> anchor_probs{};  // version 0's probability per row
  const int8_t* labels = nullptr;   // the job's labels, or null
  std::vector<float> y{};           // per row 0/1 (0 where unlabelled)
  HoldoutSplit split{};
  bool labelled = false;            // at least kMinLabelledRows labelled rows
  double pos_weight = 1;            // label BCE weight of the positives
  bool have_weak = false;           // trusted rules fire on some rows and w_rule > 0
};

// Fills the heal's rows, version 0's probabilities, report->diagnosis, labelled_rows and rule
// counts. LibTorch errors propagate as exceptions (Heal catches them).
void PrepareBinaryHeal(BinaryHeal& h, HealReport* report);

enum class HealStrategy {
  kGradient,       // no closed-form target: the gradient terms only, from the parent
  kAlignment,      // covariate drift: distil the re-standardised inputs' output (heal_alignment.cc)
  kPriorTarget,    // label shift without labels: distil the prior-corrected posteriors (heal_label_shift.cc)
  kLabelShiftCut,  // label shift with labels: version 0, its cut placed by the labels (heal_label_shift.cc)
  kLabels,         // labels and no target they confirm: re-fit from version 0, then the operating point (heal_labels.cc)
};
HealStrategy ChooseStrategy(const ShiftDiagnosis& diag, bool labelled, const HealPolicy& policy);
bool Distils(HealStrategy s);  // kAlignment, kPriorTarget
bool StartsFromVersion0(HealStrategy s);  // kLabels, kLabelShiftCut

// A closed-form target (CPU tensors; undefined members are unused).
struct HealTarget {
  torch::Tensor prob;                     // prior-corrected posteriors [n]
  torch::Tensor logit, out;               // aligned logits [n] and adapter outputs [n, width]
  torch::Tensor synth_hidden, synth_logit, synth_out;  // inverse-aligned clean sample and its exact targets
  torch::Tensor synth_labels;             // the clean sample's labels
};
HealTarget AlignmentTarget(const BinaryHeal& h);        // heal_alignment.cc
HealTarget PriorCorrectedTarget(const BinaryHeal& h);   // heal_label_shift.cc

// The operating point of a labelled strategy (kLabels, kLabelShiftCut): one offset on every logit
// or, for kLabels, a band of the clean score, chosen on the labelled training rows only.
// Replaces *candidate when it moves the decision; notes what it did in the report.
void PlaceOperatingPoint(const BinaryHeal& h, HealStrategy s, AdapterVersion* candidate, HealReport* report);  // heal_labels.cc

}  // namespace reflex
