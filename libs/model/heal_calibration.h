// HealCalibration: what a healer needs to know about the clean world, captured once from the
// clean labelled data the model was trained or validated on.
//
// Plain value, immutable after Calibrate(); share it by const reference between threads.
// Units: moments are of the adapter's output (the head's input), per dimension.
#pragma once

#include <vector>

#include "core/image_centroid.h"
#include "core/rules.h"
#include "core/shift_diagnosis.h"
#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

struct HealCalibration {
  CleanCalibration clean;                 // feature moments overall and per class; priors
  std::vector<double> output_mean;        // adapter-v0 output moments on clean rows
  std::vector<double> output_var;
  // A deterministic sample of clean rows (row-major) kept for distillation: under a confirmed
  // alignment, inverse-aligned clean rows are synthetic drifted rows with exact targets.
  std::vector<float> clean_sample;
  std::vector<uint8_t> clean_sample_labels;
  size_t clean_sample_rows = 0;
  // Multi-class models (num_classes >= 2) only; the binary fields above stay empty for them.
  std::vector<double> class_rate;              // clean predicted-class distribution (argmax), K values
  std::vector<double> hidden_mean, hidden_var; // backbone output (adapter input) moments on clean rows
  // Built-in image models (ModelSpec::image_height > 0): the average over clean rows of each
  // row's own mean and standard deviation (an image's brightness and contrast), in input units.
  double row_mean = 0, row_sd = 0;
  // The same images' centroids (intensity-weighted centre, in pixels from the top-left): their
  // average and the root-mean-square distance of a row's centroid from it (how far clean images
  // sit off centre: about a pixel for centred data sets).
  Centroid centre;
  double centre_spread = 0;
  // Per rule: firing rate on clean rows overall, on negatives, on positives (multi-class: only
  // overall).
  std::vector<double> rule_fire, rule_fire_class0, rule_fire_class1;
};

// rules may be null (no rules). labels: rows.rows values of 0/1. Keeps up to `sample_rows`
// evenly spaced clean rows. Multi-class models: labels are class indices and only the output,
// hidden and class moments are computed (in chunks of 1,000 rows), and for class rules
// (RuleSet::multiclass) each rule's clean firing rate (rule_fire).
Result<HealCalibration> Calibrate(const HealableModel& model, BatchView rows, const uint8_t* labels,
                                  const RuleSet* rules, size_t sample_rows = 2000);

}  // namespace reflex
