// Pointwise and additive corruptions: noise, fog, spatter, stripes (see corruptions.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "reflex-sim/corruption_ops.h"

namespace reflex::sim::corruption {

namespace {

float Clip(double v) { return static_cast<float>(std::min(1.0, std::max(0.0, v))); }
double Uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

}  // namespace

void ShotNoise(Image im, int k, std::mt19937_64& rng) {
  static const double kPhotons[] = {60, 25, 12, 5, 3};
  for (size_t i = 0; i < im.size(); ++i) {
    const double mean = im.x[i] * kPhotons[k];
    const int count = mean > 0 ? std::poisson_distribution<int>(mean)(rng) : 0;
    im.x[i] = Clip(count / kPhotons[k]);
  }
}

void ImpulseNoise(Image im, int k, std::mt19937_64& rng) {
  static const double kAmount[] = {0.03, 0.06, 0.09, 0.17, 0.27};
  for (size_t i = 0; i < im.size(); ++i) {
    const double hit = Uniform(rng, 0, 1), salt = Uniform(rng, 0, 1);
    if (hit < kAmount[k]) im.x[i] = salt < 0.5 ? 0.0f : 1.0f;
  }
}

void SpeckleNoise(Image im, int k, std::mt19937_64& rng) {
  static const double kSigma[] = {0.15, 0.2, 0.35, 0.45, 0.6};
  for (size_t i = 0; i < im.size(); ++i) {
    im.x[i] = Clip(im.x[i] * (1 + std::normal_distribution<double>(0.0, kSigma[k])(rng)));
  }
}

void Fog(Image im, int k, std::mt19937_64& rng) {
  static const double kAmount[] = {0.15, 0.25, 0.35, 0.5, 0.7};
  const std::vector<float> coarse = SmoothField(im.height, im.width, 3, rng), fine = SmoothField(im.height, im.width, 7, rng);
  const double peak = std::max(1e-6f, *std::max_element(im.x, im.x + im.size()));
  const double a = kAmount[k];
  for (size_t i = 0; i < im.size(); ++i) {
    const double field = (coarse[i] + 0.5 * fine[i]) / 1.5;
    im.x[i] = Clip((im.x[i] + a * field) * peak / (peak + a));
  }
}

void Spatter(Image im, int k, std::mt19937_64& rng) {
  static const int kDrops[] = {2, 4, 6, 9, 12};
  for (int d = 0; d < kDrops[k]; ++d) {
    const double r0 = Uniform(rng, 0, im.height), c0 = Uniform(rng, 0, im.width);
    const double radius = Uniform(rng, 1.0, 2.5), mud = Uniform(rng, 0.3, 0.7);
    for (size_t r = 0; r < im.height; ++r) {
      for (size_t c = 0; c < im.width; ++c) {
        const double d2 = (r - r0) * (r - r0) + (c - c0) * (c - c0);
        const double weight = 0.8 * std::max(0.0, 1 - d2 / (radius * radius));
        float& x = im.x[r * im.width + c];
        x = Clip((1 - weight) * x + weight * mud);
      }
    }
  }
}

void Stripe(Image im, int k, std::mt19937_64& rng) {
  for (int s = 0; s <= k; ++s) {
    const bool vertical = Uniform(rng, 0, 1) < 0.5;
    const size_t at = std::uniform_int_distribution<size_t>(0, (vertical ? im.width : im.height) - 1)(rng);
    for (size_t i = 0; i < (vertical ? im.height : im.width); ++i) {
      im.x[vertical ? i * im.width + at : at * im.width + i] = 1.0f;
    }
  }
}

}  // namespace reflex::sim::corruption
