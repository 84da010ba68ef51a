// IDX files (the MNIST format): a big-endian header, then a dense array of unsigned bytes.
//
//   bytes 0-1  zero                 byte 2  data type (0x08 = unsigned byte; the only one read)
//   byte 3     number of dimensions (1 for labels, 3 for images: count x rows x cols)
//   then one big-endian uint32 per dimension, then the values in row-major order.
//
// ParseIdx works on bytes already in memory (decompression is the caller's business: libs/core
// has no third-party code; tools/reflex-sim/idx_files.h reads gzipped files). Errors are
// InvalidArgument and name `source` (the file name) and what is wrong, e.g.
//   "train-images.gz: header says 60000 x 28 x 28 = 47040000 bytes of data, found 1000"
//
// Plain functions and values; no shared state. Pixel values become floats in [0, 1] (v / 255).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace reflex {

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> values; // row-major, product(dims) bytes
};

Result<IdxArray> ParseIdx(const uint8_t* bytes, size_t size, const std::string& source);

// Images: a 3-d IDX array as count rows of rows*cols floats in [0, 1].
struct IdxImages {
  size_t count = 0;
  size_t height = 0, width = 0;
  std::vector<float> pixels;  // count x (height * width), row-major
  size_t pixels_per_image() const { return height * width; }
};

// InvalidArgument unless `array` is 3-d (images) / 1-d (labels), naming `source`.
Result<IdxImages> IdxToImages(const IdxArray& array, const std::string& source);
Result<std::vector<uint8_t>> IdxToLabels(const IdxArray& array, const std::string& source);

}  // namespace reflex
