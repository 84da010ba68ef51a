#include "core/idx.h"

#include <cstdio>

namespace reflex {

namespace {

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string DimsText(const std::vector<uint32_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

Result<IdxArray> ParseIdx(const uint8_t* bytes, size_t size, const std::string& source) {
  if (size < 4) {
    return Status::InvalidArgument(source + ": " + std::to_string(size) + " bytes is too short for an IDX header (4 bytes)");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    return Status::InvalidArgument(source + ": not an IDX file (the first two bytes must be zero)");
  }
  if (bytes[2] != 0x08) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", bytes[2]);
    return Status::InvalidArgument(source + ": IDX data type " + hex + " is not supported (only 0x08, unsigned byte)");
  }
  const size_t ndims = bytes[3];
  if (ndims == 0) return Status::InvalidArgument(source + ": IDX header declares zero dimensions");
  if (size < 4 + 4 * ndims) {
    return Status::InvalidArgument(source + ": truncated IDX header (" + std::to_string(ndims) +
                                   " dimensions need " + std::to_string(4 + 4 * ndims) + " bytes, file has " +
                                   std::to_string(size) + ")");
  }
  IdxArray out;
  uint64_t total = 1;
  for (size_t i = 0; i < ndims; ++i) {
    out.dims.push_back(BigEndian32(bytes + 4 + 4 * i));
    total *= out.dims.back();
    if (total > (uint64_t{1} << 34)) return Status::InvalidArgument(source + ": IDX dimensions " + DimsText(out.dims) + " are implausibly large");
  }
  const size_t header = 4 + 4 * ndims;
  if (size - header != total) {
    return Status::InvalidArgument(source + ": header says " + DimsText(out.dims) + " = " + std::to_string(total) +
                                   " bytes of data, found " + std::to_string(size - header));
  }
  out.values.assign(bytes + header, bytes + size);
  return out;
}

Result<IdxImages> IdxToImages(const IdxArray& array, const std::string& source) {
  if (array.dims.size() != 3) {
    return Status::InvalidArgument(source + ": expected images (3 dimensions: count x rows x cols), found " +
                                   std::to_string(array.dims.size()) + " dimension(s): " + DimsText(array.dims));
  }
  IdxImages img;
  img.count = array.dims[0];
  img.height = array.dims[1];
  img.width = array.dims[2];
  if (img.count == 0 || img.height == 0 || img.width == 0) return Status::InvalidArgument(source + ": empty image array " + DimsText(array.dims));
  img.pixels.resize(array.values.size());
  for (size_t i = 0; i < array.values.size(); ++i) img.pixels[i] = static_cast<float>(array.values[i]) / 255.0f;
  return img;
}

Result<std::vector<uint8_t>> IdxToLabels(const IdxArray& array, const std::string& source) {
  if (array.dims.size() != 1) {
    return Status::InvalidArgument(source + ": expected labels (1 dimension), found " + std::to_string(array.dims.size()) +
                                   " dimensions: " + DimsText(array.dims));
  }
  if (array.dims[0] == 0) return Status::InvalidArgument(source + ": no labels");
  return array.values;
}

}  // namespace reflex
