// Image corruptions for the Fashion-MNIST benchmark, in the style of ImageNet-C / MNIST-C.
// Images are grayscale, row-major, pixels in [0, 1]; every corruption clips back to [0, 1].
//
//   none            unchanged
//   gaussian_noise  x + N(0, sigma^2) per pixel, sigma = 0.08, 0.12, 0.18, 0.26, 0.38 (ImageNet-C)
//   brightness      x + c, c = 0.1, 0.2, 0.3, 0.4, 0.5 (ImageNet-C adds c to HSV value)
//   contrast        (x - m) * c + m, m = the image's mean, c = 0.4, 0.3, 0.2, 0.1, 0.05 (ImageNet-C)
//   shift           translation by (dx, dy), each uniform in [-s, s], s = 2, 3, 4, 5, 6 pixels,
//                   empty pixels become 0 (MNIST-C's translate, per image)
//   shot_noise      Poisson(x * l) / l per pixel, l = 60, 25, 12, 5, 3 photons (ImageNet-C)
//   impulse_noise   salt and pepper: a pixel becomes 0 or 1 (even odds) with probability
//                   0.03, 0.06, 0.09, 0.17, 0.27 (ImageNet-C)
//   speckle_noise   x + x N(0, sigma^2), sigma = 0.15, 0.2, 0.35, 0.45, 0.6 (ImageNet-C)
//   gaussian_blur   a Gaussian kernel of sigma = 0.5, 0.75, 1.0, 1.25, 1.5 pixels, edges clamped
//                   (defocus-like; ImageNet-C's sigmas scaled to 28 pixels)
//   motion_blur     the mean of L samples along a line through the pixel, L = 3, 5, 7, 9, 11
//                   pixels, at an angle uniform in [-45, 45] degrees per image (ImageNet-C)
//   fog             (x + a f) m / (m + a): f a smooth random field in [0, 1] (two octaves of
//                   interpolated uniform noise), m the image's maximum, a = 0.15, 0.25, 0.35, 0.5, 0.7
//   spatter         n drops of mud, n = 2, 4, 6, 9, 12, each of radius [1, 2.5] pixels and grey
//                   level [0.3, 0.7], blended in with weight 0.8 (1 - d^2 / r^2) (ImageNet-C-like)
//   pixelate        box-averaged onto a grid of s x s cells and shown back at full size,
//                   s = 0.8, 0.6, 0.45, 0.35, 0.25 of the side (ImageNet-C)
//   elastic         each pixel is read from (r, c) + a (2 f - 1), f two smooth random fields
//                   (4 x 4 control points), a = 1.0, 1.5, 2.0, 2.5, 3.0 pixels (MNIST-C-like)
//   zoom            magnified about the centre by 1.1, 1.2, 1.3, 1.4, 1.5 (MNIST-C's scale)
//   rotate          rotated about the centre by 10, 17, 24, 32, 40 degrees, the sign drawn per
//                   image; empty pixels become 0 (MNIST-C)
//   stripe          severity full-length white lines (1 pixel wide, value 1), each horizontal or
//                   vertical at a uniform position (MNIST-C's stripe)
// Resampling corruptions (blurs, elastic, zoom, rotate) interpolate bilinearly.
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
