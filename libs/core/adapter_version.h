// An adapter version: the only part of the model that healing changes, as an immutable value.
//
// The ReflexiveLayer maps a width-dim vector x to x + scale * W2 tanh(W1 x + b1) + b2 through
// `hidden` tanh units (docs/DESIGN.md §1). A version carries its lineage (parent, the coordinator
// epoch that produced it, for fencing) and a checksum over lineage, dims and weights, so a
// version that was torn on disk or garbled in transit is detected before it is served.
// A heal never mutates a version: it builds a new one, Seal()s it and publishes it.
//
// Flat weight layout (float32, in this order):
//   W1 [hidden x width, row-major], b1 [hidden], W2 [width x hidden, row-major], b2 [width],
//   scale [1].
// Checksum: Fnv1a64 over version, parent, epoch (each little-endian uint64), width, hidden
// (each little-endian uint32), then each weight's IEEE-754 bits as a little-endian uint32.
//
// Ownership: a plain value (copy or move it; serving shares it as shared_ptr<const ...>).
// Thread-safety: const methods are safe to call concurrently; mutation needs one owner.
// Units: weights are dimensionless model parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace reflex {

struct AdapterDims {
  uint32_t width = 0;   // input and output size of the adapter
  uint32_t hidden = 0;  // tanh units between W1 and W2
};

inline bool operator==(AdapterDims a, AdapterDims b) {
  return a.width == b.width && a.hidden == b.hidden;
}
inline bool operator!=(AdapterDims a, AdapterDims b) { return !(a == b); }

// hidden*width + hidden + width*hidden + width + 1.
size_t AdapterWeightCount(AdapterDims dims);

// Offsets of each block in the flat weight vector (the layout above).
struct AdapterLayout {
  explicit AdapterLayout(AdapterDims dims);
  size_t w1 = 0;     // hidden x width
  size_t b1 = 0;     // hidden
  size_t w2 = 0;     // width x hidden
  size_t b2 = 0;     // width
  size_t scale = 0;  // 1
  size_t total = 0;  // == AdapterWeightCount(dims)
};

struct AdapterVersion {
  uint64_t version = 0;  // 0 = the deployed (trained) adapter; heals produce 1, 2, ...
  uint64_t parent = 0;   // version this one was healed from
  uint64_t epoch = 0;    // coordinator epoch that produced it (fencing)
  AdapterDims dims;
  std::vector<float> weights;
  uint64_t checksum = 0;  // see the header comment; set by Seal()

  uint64_t ComputeChecksum() const;
  // checksum = ComputeChecksum(). Call after the last change to any other field.
  void Seal();
  // OK when the version is well formed and sealed. Otherwise, checked in this order:
  //   InvalidArgument: a dim is zero; weights.size() != AdapterWeightCount(dims) (says both);
  //                    a weight is NaN or infinite (says which index);
  //   Corruption:      checksum != ComputeChecksum() (says both in hex).
  Status Verify() const;
};

}  // namespace reflex
