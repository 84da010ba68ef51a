// Input-level alignment for image models: the closed-form part of a multi-class heal that works
// on pixels rather than on the backbone's output.
//
// A corruption such as low contrast or added brightness changes every image's own intensity
// statistics in the same way. Re-standardising them undoes it before the backbone has lost the
// information (a contrast of 0.05 leaves most backbone units dead; at the adapter's input no
// per-dimension map can bring them back). For each row x with its own mean mu and standard
// deviation sd:
//   x' = clip(mu + (m_clean - m) + a (x - mu), 0, 1),  a = sd_clean / sd
// where m and sd are the averages of the rows' own means and standard deviations over the job's
// rows, and m_clean, sd_clean the same averages on clean rows (HealCalibration::row_mean/row_sd).
// The healer runs the frozen backbone on x' and distills the result into the adapter.
//
// LibTorch internals (libs/model only). Pure function of its inputs; thread-safe.
#pragma once

#include <torch/torch.h>

#include "model/heal_calibration.h"

namespace reflex {

struct InputAlignment {
  double scale = 1;   // a
  double offset = 0;  // m_clean - m
};

// The alignment of `rows` ([n, pixels], values in [0, 1]) toward the clean averages in `cal`.
InputAlignment FitInputAlignment(const torch::Tensor& rows, const HealCalibration& cal);

// x' as above for every row of `rows`.
torch::Tensor ApplyInputAlignment(const torch::Tensor& rows, const InputAlignment& alignment);

}  // namespace reflex
