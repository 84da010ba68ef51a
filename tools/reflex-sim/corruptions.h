// Image corruptions for the Fashion-MNIST benchmark, in the style of ImageNet-C / MNIST-C.
// Images are grayscale, row-major, pixels in [0, 1]; every corruption clips back to [0, 1].
//
//   none            unchanged
//   gaussian_noise  x + N(0, sigma^2) per pixel, sigma = 0.08, 0.12, 0.18, 0.26, 0.38 (ImageNet-C)
//   brightness      x + c, c = 0.1, 0.2, 0.3, 0.4, 0.5 (ImageNet-C adds c to HSV value)
//   contrast        (x - m) * c + m, m = the image's mean, c = 0.4, 0.3, 0.2, 0.1, 0.05 (ImageNet-C)
//   shift           translation by (dx, dy), each uniform in [-s, s], s = 2, 3, 4, 5, 6 pixels,
//                   empty pixels become 0 (MNIST-C's translate, per image)
//
// Deterministic: image i's random draws depend only on (seed, i), so the same seed gives the same
// images whatever the batching. Plain functions; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace reflex::sim {

const std::vector<std::string>& CorruptionNames();

// Corrupts `count` images of height x width in place. InvalidArgument for an unknown name or a
// severity outside 1..5 (the message lists the names).
Status CorruptImages(const std::string& name, int severity, uint64_t seed, float* pixels, size_t count,
                     size_t height, size_t width);

}  // namespace reflex::sim
