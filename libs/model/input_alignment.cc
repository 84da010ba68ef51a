#include "model/input_alignment.h"

#include <algorithm>

namespace reflex {

InputAlignment FitInputAlignment(const torch::Tensor& rows, const HealCalibration& cal) {
  InputAlignment a;
  const double sd = rows.std(1, false).mean().item<double>();
  a.scale = std::clamp(cal.row_sd / std::max(sd, 1e-6), 0.05, 50.0);
  a.offset = cal.row_mean - rows.mean(1).mean().item<double>();
  return a;
}

torch::Tensor ApplyInputAlignment(const torch::Tensor& rows, const InputAlignment& alignment) {
  torch::Tensor mu = rows.mean(1, true);
  return (mu + alignment.offset + alignment.scale * (rows - mu)).clamp(0.0, 1.0);
}

}  // namespace reflex
