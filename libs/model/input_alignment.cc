#include "model/input_alignment.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace reflex {

InputAlignment FitInputAlignment(const torch::Tensor& rows, const HealCalibration& cal, uint32_t height,
                                 uint32_t width, double recentre_factor) {
  InputAlignment a;
  const double sd = rows.std(1, false).mean().item<double>();
  a.scale = std::clamp(cal.row_sd / std::max(sd, 1e-6), 0.05, 50.0);
  a.offset = cal.row_mean - rows.mean(1).mean().item<double>();
  if (recentre_factor > 0 && cal.centre_spread > 0 && height > 0 && width > 0) {
    torch::Tensor x = rows.to(torch::kFloat32).contiguous();
    a.centre = cal.centre;
    a.spread = CentroidSpread(x.data_ptr<float>(), static_cast<size_t>(x.size(0)), height, width, a.centre);
    a.recentre = CentroidsScattered(a.spread, cal.centre_spread, recentre_factor);
  }
  return a;
}

torch::Tensor ApplyInputAlignment(const torch::Tensor& rows, const InputAlignment& alignment, uint32_t height,
                                  uint32_t width) {
  torch::Tensor mu = rows.mean(1, true);
  torch::Tensor x = (mu + alignment.offset + alignment.scale * (rows - mu)).clamp(0.0, 1.0);
  if (!alignment.recentre) return x;
  torch::Tensor src = x.to(torch::kFloat32).contiguous();
  torch::Tensor dst = torch::zeros_like(src);
  const int64_t n = src.size(0), h = height, w = width;
  const float* in = src.data_ptr<float>();
  float* out = dst.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* s = in + i * h * w;
    const Centroid c = ImageCentroid(s, height, width);
    const int64_t dy = std::clamp<int64_t>(std::llround(alignment.centre.row - c.row), -h / 2, h / 2);
    const int64_t dx = std::clamp<int64_t>(std::llround(alignment.centre.col - c.col), -w / 2, w / 2);
    float* d = out + i * h * w;
    for (int64_t r = 0; r < h; ++r) {
      const int64_t sr = r - dy;
      if (sr < 0 || sr >= h) continue;
      for (int64_t col = 0; col < w; ++col) {
        const int64_t sc = col - dx;
        if (sc >= 0 && sc < w) d[r * w + col] = s[sr * w + sc];
      }
    }
  }
  return dst;
}

}  // namespace reflex
