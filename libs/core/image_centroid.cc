#include "core/image_centroid.h"

#include <cmath>

namespace reflex {

Centroid ImageCentroid(const float* pixels, uint32_t height, uint32_t width) {
  double mass = 0, row = 0, col = 0;
  for (uint32_t r = 0; r < height; ++r) {
    const float* line = pixels + static_cast<size_t>(r) * width;
    double line_mass = 0;
    for (uint32_t c = 0; c < width; ++c) {
      line_mass += line[c];
      col += static_cast<double>(c) * line[c];
    }
    mass += line_mass;
    row += static_cast<double>(r) * line_mass;
  }
  if (!(mass > 1e-9)) return {(height - 1) / 2.0, (width - 1) / 2.0};
  return {row / mass, col / mass};
}

Centroid MeanCentroid(const float* images, size_t count, uint32_t height, uint32_t width) {
  Centroid mean;
  if (count == 0) return {(height - 1) / 2.0, (width - 1) / 2.0};
  const size_t n = static_cast<size_t>(height) * width;
  for (size_t i = 0; i < count; ++i) {
    const Centroid c = ImageCentroid(images + i * n, height, width);
    mean.row += c.row;
    mean.col += c.col;
  }
  mean.row /= static_cast<double>(count);
  mean.col /= static_cast<double>(count);
  return mean;
}

double CentroidSpread(const float* images, size_t count, uint32_t height, uint32_t width, Centroid centre) {
  if (count == 0) return 0;
  const size_t n = static_cast<size_t>(height) * width;
  double sum = 0;
  for (size_t i = 0; i < count; ++i) {
    const Centroid c = ImageCentroid(images + i * n, height, width);
    sum += (c.row - centre.row) * (c.row - centre.row) + (c.col - centre.col) * (c.col - centre.col);
  }
  return std::sqrt(sum / static_cast<double>(count));
}

bool CentroidsScattered(double spread, double clean_spread, double factor) {
  return factor > 0 && clean_spread > 0 && spread > factor * clean_spread && spread > 1.0;
}

}  // namespace reflex
