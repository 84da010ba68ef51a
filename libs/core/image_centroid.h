// Image centroids: where an image's intensity sits, the statistic behind position drift.
//
// A centred data set (MNIST-style) puts each image's intensity-weighted centre within about a
// pixel of the data set's average; a translation corruption scatters it. The healer re-centres
// images on it (model/input_alignment.h) and reflex-sim's image runs watch its spread as a
// drift signal that the backbone's output statistics can miss.
//
// Plain functions over row-major float pixels (rows of height*width values, any non-negative
// intensity scale); pure and thread-safe. Units: pixels, rows counted from the top and columns
// from the left, 0-based.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reflex {

struct Centroid {
  double row = 0, col = 0;
};

// The intensity-weighted centre of one image; a blank image (total intensity <= 1e-9) reports
// the geometric centre ((height - 1) / 2, (width - 1) / 2).
Centroid ImageCentroid(const float* pixels, uint32_t height, uint32_t width);

// The average centroid of `count` images stored one after another.
Centroid MeanCentroid(const float* images, size_t count, uint32_t height, uint32_t width);

// Root-mean-square distance of the images' centroids from `centre`, in pixels; 0 for no images.
double CentroidSpread(const float* images, size_t count, uint32_t height, uint32_t width, Centroid centre);

// Position drift: a spread of `spread` pixels against the clean `clean_spread` means the images
// have moved when it exceeds `factor` times the clean spread and a whole pixel (a factor of 0
// turns the test off).
bool CentroidsScattered(double spread, double clean_spread, double factor);

}  // namespace reflex
