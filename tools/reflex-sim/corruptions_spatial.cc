// Resampling corruptions: blurs, pixelation and geometric warps (see corruptions.h).
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "reflex-sim/corruption_ops.h"

namespace reflex::sim::corruption {

namespace {

constexpr double kPi = 3.14159265358979323846;

double Uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

// Bilinear sample of `src` at (r, c); outside the image it reads 0 (clamp: the nearest edge pixel).
float Sample(const std::vector<float>& src, const Image& im, double r, double c, bool clamp) {
  if (clamp) {
    r = std::min(std::max(r, 0.0), im.height - 1.0);
    c = std::min(std::max(c, 0.0), im.width - 1.0);
  }
  const double r0 = std::floor(r), c0 = std::floor(c), fr = r - r0, fc = c - c0;
  auto at = [&](double rr, double cc) -> double {
    if (rr < 0 || cc < 0 || rr > im.height - 1.0 || cc > im.width - 1.0) return 0.0;
    return src[static_cast<size_t>(rr) * im.width + static_cast<size_t>(cc)];
  };
  const double v = (1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)) + fr * ((1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1));
  return static_cast<float>(std::min(1.0, std::max(0.0, v)));
}

// x(r, c) = src(source(r, c)) for every pixel, bilinear, 0 outside.
void Warp(Image im, const std::function<void(double r, double c, double* sr, double* sc)>& source) {
  const std::vector<float> src(im.x, im.x + im.size());
  for (size_t r = 0; r < im.height; ++r) {
    for (size_t c = 0; c < im.width; ++c) {
      double sr = 0, sc = 0;
      source(static_cast<double>(r), static_cast<double>(c), &sr, &sc);
      im.x[r * im.width + c] = Sample(src, im, sr, sc, false);
    }
  }
}

}  // namespace

std::vector<float> SmoothField(size_t height, size_t width, size_t cells, std::mt19937_64& rng) {
  std::vector<float> grid((cells + 1) * (cells + 1));
  for (float& g : grid) g = static_cast<float>(Uniform(rng, 0, 1));
  const Image g{grid.data(), cells + 1, cells + 1};
  std::vector<float> out(height * width);
  for (size_t r = 0; r < height; ++r) {
    for (size_t c = 0; c < width; ++c) {
      out[r * width + c] = Sample(grid, g, r * static_cast<double>(cells) / std::max<size_t>(1, height - 1),
                                  c * static_cast<double>(cells) / std::max<size_t>(1, width - 1), true);
    }
  }
  return out;
}

void GaussianBlur(Image im, int k) {
  static const double kSigma[] = {0.5, 0.75, 1.0, 1.25, 1.5};
  const int radius = static_cast<int>(std::ceil(3 * kSigma[k]));
  std::vector<double> kernel(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += kernel[i + radius] = std::exp(-0.5 * i * i / (kSigma[k] * kSigma[k]));
  for (double& v : kernel) v /= sum;
  for (int pass = 0; pass < 2; ++pass) {  // rows, then columns; edges clamp
    const std::vector<float> src(im.x, im.x + im.size());
    for (size_t r = 0; r < im.height; ++r) {
      for (size_t c = 0; c < im.width; ++c) {
        double v = 0;
        for (int i = -radius; i <= radius; ++i) {
          const long rr = pass ? std::clamp<long>(static_cast<long>(r) + i, 0, im.height - 1) : static_cast<long>(r);
          const long cc = pass ? static_cast<long>(c) : std::clamp<long>(static_cast<long>(c) + i, 0, im.width - 1);
          v += kernel[i + radius] * src[rr * im.width + cc];
        }
        im.x[r * im.width + c] = static_cast<float>(std::min(1.0, std::max(0.0, v)));
      }
    }
  }
}

void MotionBlur(Image im, int k, std::mt19937_64& rng) {
  static const int kLength[] = {3, 5, 7, 9, 11};
  const double angle = Uniform(rng, -45, 45) * kPi / 180, dr = std::sin(angle), dc = std::cos(angle);
  const std::vector<float> src(im.x, im.x + im.size());
  for (size_t r = 0; r < im.height; ++r) {
    for (size_t c = 0; c < im.width; ++c) {
      double v = 0;
      for (int i = 0; i < kLength[k]; ++i) {
        const double t = i - (kLength[k] - 1) / 2.0;
        v += Sample(src, im, r + t * dr, c + t * dc, true);
      }
      im.x[r * im.width + c] = static_cast<float>(v / kLength[k]);
    }
  }
}

void Pixelate(Image im, int k) {
  static const double kScale[] = {0.8, 0.6, 0.45, 0.35, 0.25};
  const size_t ch = std::max<size_t>(1, std::lround(im.height * kScale[k])), cw = std::max<size_t>(1, std::lround(im.width * kScale[k]));
  std::vector<double> sum(ch * cw, 0.0);
  std::vector<size_t> count(ch * cw, 0);
  auto cell = [&](size_t r, size_t c) { return (r * ch / im.height) * cw + c * cw / im.width; };
  for (size_t r = 0; r < im.height; ++r) {
    for (size_t c = 0; c < im.width; ++c) {
      sum[cell(r, c)] += im.x[r * im.width + c];
      ++count[cell(r, c)];
    }
  }
  for (size_t r = 0; r < im.height; ++r) {
    for (size_t c = 0; c < im.width; ++c) im.x[r * im.width + c] = static_cast<float>(sum[cell(r, c)] / count[cell(r, c)]);
  }
}

void Elastic(Image im, int k, std::mt19937_64& rng) {
  static const double kAlpha[] = {1.0, 1.5, 2.0, 2.5, 3.0};  // largest displacement, pixels
  const std::vector<float> fr = SmoothField(im.height, im.width, 3, rng), fc = SmoothField(im.height, im.width, 3, rng);
  Warp(im, [&](double r, double c, double* sr, double* sc) {
    const size_t i = static_cast<size_t>(r) * im.width + static_cast<size_t>(c);
    *sr = r + kAlpha[k] * (2 * fr[i] - 1);
    *sc = c + kAlpha[k] * (2 * fc[i] - 1);
  });
}

void Zoom(Image im, int k) {
  static const double kFactor[] = {1.1, 1.2, 1.3, 1.4, 1.5};
  const double cr = (im.height - 1) / 2.0, cc = (im.width - 1) / 2.0;
  Warp(im, [&](double r, double c, double* sr, double* sc) {
    *sr = cr + (r - cr) / kFactor[k];
    *sc = cc + (c - cc) / kFactor[k];
  });
}

void Rotate(Image im, int k, std::mt19937_64& rng) {
  static const double kDegrees[] = {10, 17, 24, 32, 40};
  const double angle = (Uniform(rng, 0, 1) < 0.5 ? -1 : 1) * kDegrees[k] * kPi / 180;
  const double cr = (im.height - 1) / 2.0, cc = (im.width - 1) / 2.0, cs = std::cos(angle), sn = std::sin(angle);
  Warp(im, [&](double r, double c, double* sr, double* sc) {
    *sr = cr + cs * (r - cr) - sn * (c - cc);
    *sc = cc + sn * (r - cr) + cs * (c - cc);
  });
}

}  // namespace reflex::sim::corruption
