#include "model/score_band.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace reflex {

Result<AdapterVersion> BandAdapter(const AdapterVersion& like, const std::vector<float>& w, double c, const ScoreBand& band) {
  const AdapterDims dims = like.dims;
  if (dims.hidden < 3) return Status::InvalidArgument("score band: the adapter needs 3 hidden units, has " + std::to_string(dims.hidden));
  if (w.size() != dims.width) {
    return Status::InvalidArgument("score band: head direction of " + std::to_string(w.size()) + " does not fit width " +
                                   std::to_string(dims.width));
  }
  const bool lo_open = std::isinf(band.lo) && band.lo < 0, hi_open = std::isinf(band.hi) && band.hi > 0;
  if (lo_open && hi_open) return Status::InvalidArgument("score band: both edges are infinite, which flags every row");
  for (double v : {c, band.score_min, band.score_max, band.inside, band.outside}) {
    if (!std::isfinite(v)) return Status::InvalidArgument("score band: a bias, range or logit is not finite");
  }
  if ((!lo_open && !std::isfinite(band.lo)) || (!hi_open && !std::isfinite(band.hi)) || !(band.lo < band.hi) ||
      !(band.score_min <= band.score_max) || !(band.inside > 0) || !(band.outside < 0)) {
    return Status::InvalidArgument("score band: need lo < hi, score_min <= score_max and inside > 0 > outside");
  }
  double norm2 = 0;
  for (float v : w) norm2 += static_cast<double>(v) * v;
  if (!(norm2 > 0) || !std::isfinite(norm2)) return Status::InvalidArgument("score band: the head direction is zero");

  const double m = 0.5 * (band.score_min + band.score_max);
  const double radius = std::max(0.5 * (band.score_max - band.score_min), 1.0);
  const double e = 0.05 / radius;  // |e (s - m)| <= 0.1 over twice the range: tanh(x)/x within 0.4%
  const double finite_lo = lo_open ? band.hi - radius : band.lo, finite_hi = hi_open ? band.lo + radius : band.hi;
  const double k = 2.0 / (0.02 * (finite_hi - finite_lo));

  const AdapterLayout layout(dims);
  AdapterVersion out = like;
  out.weights.assign(layout.total, 0.0f);
  auto w1 = [&](size_t unit, double along, double bias) {
    for (size_t j = 0; j < dims.width; ++j) out.weights[layout.w1 + unit * dims.width + j] = static_cast<float>(along * w[j]);
    out.weights[layout.b1 + unit] = static_cast<float>(bias);
  };
  // A unit held at +1 has no input and a bias far into tanh's saturation.
  if (lo_open) w1(0, 0.0, 20.0); else w1(0, k, k * (c - band.lo));
  if (hi_open) w1(1, 0.0, 20.0); else w1(1, -k, k * (band.hi - c));
  w1(2, e, e * (c - m));
  const double g = 0.5 * (band.inside - band.outside);
  const double gain[3] = {g, g, -1.0 / e};
  for (size_t i = 0; i < dims.width; ++i) {
    for (size_t unit = 0; unit < 3; ++unit) {
      out.weights[layout.w2 + i * dims.hidden + unit] = static_cast<float>(gain[unit] * w[i] / norm2);
    }
    out.weights[layout.b2 + i] = static_cast<float>((band.outside - m) * w[i] / norm2);
  }
  out.weights[layout.scale] = 1.0f;
  for (size_t i = 0; i < out.weights.size(); ++i) {
    if (!std::isfinite(out.weights[i])) return Status::InvalidArgument("score band: weight " + std::to_string(i) + " is not finite");
  }
  out.Seal();
  return out;
}

}  // namespace reflex
