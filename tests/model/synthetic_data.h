// Test data shared by the model tests: two classes (prior 0.3) over kDims features, where
// feature 0 carries most of the signal and feature 1 a little; the rest are noise.
// Deterministic in the seed. Header-only; test code only.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "model/healable_model.h"

namespace reflex::testing {

constexpr size_t kDims = 10;

struct Data {
  std::vector<float> rows;       // row-major n x kDims
  std::vector<uint8_t> labels;   // 0/1
  size_t n = 0;
  BatchView view() const { return {rows.data(), n, kDims}; }
};

// `prior`: the fraction of positives (0.3 unless a test moves it: a label shift).
inline Data MakeData(size_t n, uint64_t seed, double prior = 0.3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::bernoulli_distribution positive(prior);
  Data d;
  d.n = n;
  d.rows.resize(n * kDims);
  d.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const bool y = positive(rng);
    d.labels[i] = y ? 1 : 0;
    for (size_t f = 0; f < kDims; ++f) d.rows[i * kDims + f] = normal(rng);
    d.rows[i * kDims + 0] += y ? 2.5f : 0.0f;
    d.rows[i * kDims + 1] += y ? 1.0f : 0.0f;
  }
  return d;
}

}  // namespace reflex::testing
