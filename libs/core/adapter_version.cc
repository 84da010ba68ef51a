#include "core/adapter_version.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/byte_coding.h"
#include "core/checksum.h"

namespace reflex {

size_t AdapterWeightCount(AdapterDims dims) {
  const size_t width = dims.width;
  const size_t hidden = dims.hidden;
  return hidden * width + hidden + width * hidden + width + 1;
}

AdapterLayout::AdapterLayout(AdapterDims dims) {
  const size_t width = dims.width;
  const size_t hidden = dims.hidden;
  w1 = 0;
  b1 = w1 + hidden * width;
  w2 = b1 + hidden;
  b2 = w2 + width * hidden;
  scale = b2 + width;
  total = scale + 1;
}

uint64_t AdapterVersion::ComputeChecksum() const {
  std::string header;
  AppendU64(&header, version);
  AppendU64(&header, parent);
  AppendU64(&header, epoch);
  AppendU32(&header, dims.width);
  AppendU32(&header, dims.hidden);
  uint64_t hash = Fnv1a64(header.data(), header.size());
  // Hash the weights in chunks so a large adapter does not need one big buffer.
  constexpr size_t kChunk = 1024;
  std::string chunk;
  chunk.reserve(kChunk * 4);
  for (size_t start = 0; start < weights.size(); start += kChunk) {
    chunk.clear();
    const size_t end = std::min(weights.size(), start + kChunk);
    for (size_t i = start; i < end; ++i) AppendF32(&chunk, weights[i]);
    hash = Fnv1a64(chunk.data(), chunk.size(), hash);
  }
  return hash;
}

void AdapterVersion::Seal() { checksum = ComputeChecksum(); }

Status AdapterVersion::Verify() const {
  const std::string where = "adapter version " + std::to_string(version);
  if (dims.width == 0 || dims.hidden == 0) {
    return Status::InvalidArgument(where + ": dims must be non-zero, got width " +
                                   std::to_string(dims.width) + " hidden " +
                                   std::to_string(dims.hidden));
  }
  const size_t expected = AdapterWeightCount(dims);
  if (weights.size() != expected) {
    return Status::InvalidArgument(
        where + ": has " + std::to_string(weights.size()) + " weights but width " +
        std::to_string(dims.width) + " hidden " + std::to_string(dims.hidden) + " needs " +
        std::to_string(expected));
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i])) {
      return Status::InvalidArgument(where + ": weight " + std::to_string(i) + " is " +
                                     (std::isnan(weights[i]) ? "NaN" : "infinite"));
    }
  }
  const uint64_t computed = ComputeChecksum();
  if (checksum != computed) {
    return Status::Corruption(where + ": checksum mismatch: stored " + FormatChecksum(checksum) +
                              ", computed " + FormatChecksum(computed));
  }
  return Status::Ok();
}

}  // namespace reflex
