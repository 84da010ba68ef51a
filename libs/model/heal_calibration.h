// HealCalibration: what a healer needs to know about the clean world, captured once from the
// clean labelled data the model was trained or validated on.
//
// Plain value, immutable after Calibrate(); share it by const reference between threads.
// Units: moments are of the adapter's output (the head's input), per dimension.
#pragma once

#include <vector>

#include "core/rules.h"
#include "core/shift_diagnosis.h"
#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

struct HealCalibration {
  CleanCalibration clean;                 // feature moments overall and per class; priors
  std::vector<double> output_mean;        // adapter-v0 output moments on clean rows
  std::vector<double> output_var;
  // Per rule: firing rate on clean rows overall, on negatives, on positives.
  std::vector<double> rule_fire, rule_fire_class0, rule_fire_class1;
};

// rules may be null (no rules). labels: rows.rows values of 0/1.
Result<HealCalibration> Calibrate(const HealableModel& model, BatchView rows, const uint8_t* labels,
                                  const RuleSet* rules);

}  // namespace reflex
