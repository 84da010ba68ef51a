// The corruptions of corruptions.h, one function each, on one image (internal to reflex-sim).
//
// Every function corrupts one grayscale height x width image `x` in place (pixels in [0, 1],
// row-major) at severity index k = severity - 1 in 0..4, drawing any randomness from `rng`
// (seeded per image by the caller), and leaves pixels in [0, 1]. The parameters per severity
// are listed in corruptions.h. Plain functions; no shared state.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace reflex::sim::corruption {

struct Image {
  float* x;
  size_t height, width;
  size_t size() const { return height * width; }
};

// Pointwise and additive (corruptions_pixel.cc).
void ShotNoise(Image im, int k, std::mt19937_64& rng);
void ImpulseNoise(Image im, int k, std::mt19937_64& rng);
void SpeckleNoise(Image im, int k, std::mt19937_64& rng);
void Fog(Image im, int k, std::mt19937_64& rng);
void Spatter(Image im, int k, std::mt19937_64& rng);
void Stripe(Image im, int k, std::mt19937_64& rng);

// Resampling: blurs, pixelation and geometric warps (corruptions_spatial.cc).
void GaussianBlur(Image im, int k);
void MotionBlur(Image im, int k, std::mt19937_64& rng);
void Pixelate(Image im, int k);
void Elastic(Image im, int k, std::mt19937_64& rng);
void Zoom(Image im, int k);
void Rotate(Image im, int k, std::mt19937_64& rng);

// A smooth random field in [0, 1] of height x width: a (cells + 1) x (cells + 1) grid of uniform
// values, bilinearly interpolated (corruptions_spatial.cc; fog and elastic use it).
std::vector<float> SmoothField(size_t height, size_t width, size_t cells, std::mt19937_64& rng);

}  // namespace reflex::sim::corruption
