// Input-level alignment for image models: the closed-form part of a multi-class heal that works
// on pixels rather than on the backbone's output.
//
// Intensity. A corruption such as low contrast or added brightness changes every image's own
// intensity statistics in the same way. Re-standardising them undoes it before the backbone has
// lost the information (a contrast of 0.05 leaves most backbone units dead; at the adapter's
// input no per-dimension map can bring them back). For each row x with its own mean mu and
// standard deviation sd:
//   x' = clip(mu + (m_clean - m) + a (x - mu), 0, 1),  a = sd_clean / sd
// where m and sd are the averages of the rows' own means and standard deviations over the job's
// rows, and m_clean, sd_clean the same averages on clean rows (HealCalibration::row_mean/row_sd).
//
// Position. A translation moves each image's centroid (core/image_centroid.h). Clean images of
// a centred data set sit within about a pixel of their average centroid; when the job's
// centroids are scattered (CentroidsScattered with `recentre_factor`), every image is
// translated by whole pixels so that its centroid lands on the clean average, filling with
// zeros what comes in from outside. The fit decides once for all rows, so clean data (and
// intensity-only corruptions) are never moved.
//
// The healer runs the frozen backbone on the aligned images and distills the result into the
// adapter, which serves the unaligned images: the alignment is a teacher, never a serving step.
//
// LibTorch internals (libs/model only). Pure functions of their inputs; thread-safe.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "core/image_centroid.h"
#include "model/heal_calibration.h"

namespace reflex {

struct InputAlignment {
  double scale = 1;   // a
  double offset = 0;  // m_clean - m
  bool recentre = false;  // translate each image's centroid to `centre`
  Centroid centre;
  double spread = 0;      // the job's centroid spread (pixels), reported in the diagnosis
};

// The alignment of `rows` ([n, height*width], values in [0, 1]) toward the clean averages in `cal`.
InputAlignment FitInputAlignment(const torch::Tensor& rows, const HealCalibration& cal, uint32_t height,
                                 uint32_t width, double recentre_factor);

// x' as above for every row of `rows`.
torch::Tensor ApplyInputAlignment(const torch::Tensor& rows, const InputAlignment& alignment, uint32_t height,
                                  uint32_t width);

}  // namespace reflex
