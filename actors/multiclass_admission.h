// The coordinator's own check of a K-class candidate a healer accepted (the K-class form of
// AdmitCandidate, coordinator_runtime.h), run in a detached actor: the candidate is intact and
// descends from `parent`; scored by the coordinator's copy of the model on the job's rows, the
// predicted-class distribution's total variation from the clean one (HealCalibration::
// class_rate) is re-measured for candidate and parent and put through the very ValidateCandidate
// the healer's gate applies (core/validation_gate.h, GateInputs::multiclass). When the heal did
// not align its inputs, the measured TV must also be within 0.02 of the healer's reported
// `class_tv` (its figures are checked, not trusted). The Admission's positive_rate carries the
// measured TV. Pure apart from scoring; safe from any thread (the model is const).
// Units: TV in [0, 1].
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "actors/coordinator_runtime.h"

namespace reflex::actors {

// Total variation between the argmax class histogram of n rows of K probabilities and `clean`.
double PredictedClassTv(const float* probs, size_t n, size_t k, const std::vector<double>& clean);

Admission AdmitMulticlassCandidate(const HealableModel& model, const std::vector<double>& clean_class_rate,
                                   const AdapterVersion& candidate, const AdapterVersion& parent,
                                   const std::vector<float>& rows, const HealPolicy& policy,
                                   const std::map<std::string, double>& healer_metrics);

}  // namespace reflex::actors
