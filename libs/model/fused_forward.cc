#include "model/fused_forward.h"

#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

// The elementwise loops are compiled for several instruction sets and picked at load time by
// CPU feature (GCC function multi-versioning), so one binary vectorises with AVX-512 or AVX2
// where the CPU has them and still runs on a plain x86-64. Feature clones, not "arch=" ones: an
// "arch=" clone matches only that CPU model, and an AMD EPYC then ran the scalar loop.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define REFLEX_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define REFLEX_VECTOR_CLONES
#endif

namespace reflex::fused {
namespace {

// x clamped to [lo, hi], except that NaN stays NaN (std::min/std::max would turn it into a bound,
// so a row whose pre-activation overflowed to NaN would score finite where LibTorch gives NaN, and
// the scoring server could not refuse it as non-finite). Compiles to a branch-free select.
__attribute__((always_inline)) inline float ClampKeepNan(float x, float lo, float hi) {
  return x > hi ? hi : (x < lo ? lo : x);
}

// exp(x) for x in [-87, 87]: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, and a
// degree-6 polynomial for e^r (about 1 ulp), scaled by 2^n through the exponent bits. Branch
// free, so loops over it vectorise.
__attribute__((always_inline)) inline float ExpBounded(float x) {
  x = ClampKeepNan(x, -87.0f, 87.0f);
  const float kRound = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// Scratch floats for the calling thread; grows, never shrinks.
float* Scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

REFLEX_VECTOR_CLONES
void AddBias(float* y, const float* b, size_t n, size_t k, Activation act) {
  for (size_t i = 0; i < n; ++i) {
    float* row = y + i * k;
    if (act == Activation::kRelu) {
      for (size_t j = 0; j < k; ++j) {
        const float v = row[j] + b[j];
        row[j] = v < 0.0f ? 0.0f : v;  // NaN stays NaN, as in LibTorch's relu
      }
    } else {
      for (size_t j = 0; j < k; ++j) row[j] += b[j];
    }
  }
}

REFLEX_VECTOR_CLONES
void AddRows(const float* x, const float* b, size_t n, size_t k, float* y) {
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < k; ++j) y[i * k + j] = x[i * k + j] + b[j];
  }
}

// C[n x out] = alpha * x[n x in] W^T + beta * C. One row goes through GEMV (less set-up).
void Gemm(const float* w, size_t out, size_t in, const float* x, size_t n, float alpha, float beta, float* c) {
  const int o = static_cast<int>(out), k = static_cast<int>(in);
  if (n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, o, k, alpha, w, k, x, 1, beta, c, 1);
  } else if (out == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), k, alpha, x, k, w, 1, beta, c, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), o, k, alpha, x, k, w, k, beta, c, o);
  }
}

}  // namespace

REFLEX_VECTOR_CLONES
void TanhInPlace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    // tanh(v) = (e^{2v} - 1) / (e^{2v} + 1); |v| > 9 is +-1 to float precision.
    const float v = ClampKeepNan(x[i], -9.0f, 9.0f);
    const float e = ExpBounded(2.0f * v);
    x[i] = (e - 1.0f) / (e + 1.0f);
  }
}

REFLEX_VECTOR_CLONES
void SigmoidInPlace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + ExpBounded(-x[i]));
}

REFLEX_VECTOR_CLONES
void SoftmaxRows(float* x, size_t rows, size_t k) {
  for (size_t i = 0; i < rows; ++i) {
    float* row = x + i * k;
    float top = row[0];
    for (size_t j = 1; j < k; ++j) top = std::max(top, row[j]);
    float sum = 0;
    for (size_t j = 0; j < k; ++j) {
      row[j] = ExpBounded(row[j] - top);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (size_t j = 0; j < k; ++j) row[j] *= inv;
  }
}

void DenseForward(const Dense& d, const float* x, size_t n, float* out, Activation act) {
  Gemm(d.w, d.out, d.in, x, n, 1.0f, 0.0f, out);
  AddBias(out, d.b, n, d.out, act);
}

void AdapterForward(const Adapter& a, const float* x, size_t n, float* y, float* hidden_scratch) {
  const size_t width = a.inner.in, hidden = a.inner.out;
  Gemm(a.inner.w, hidden, width, x, n, 1.0f, 0.0f, hidden_scratch);
  AddBias(hidden_scratch, a.inner.b, n, hidden, Activation::kNone);
  TanhInPlace(hidden_scratch, n * hidden);
  AddRows(x, a.b2, n, width, y);                                    // y = x + b2
  Gemm(a.w2, width, hidden, hidden_scratch, n, a.scale, 1.0f, y);   // y += scale * tanh(.) W2^T
}

void Forward(const Network& net, const float* rows, size_t n, float* probs) {
  const size_t width = net.adapter.inner.in, hidden = net.adapter.inner.out;
  size_t widest = width;
  for (size_t l = 0; l < net.backbone_layers; ++l) widest = std::max(widest, net.backbone[l].out);
  // Two ping-pong activation buffers and the adapter's hidden units.
  float* buffers = Scratch(n * (2 * widest + hidden));
  float* ping = buffers;
  float* pong = buffers + n * widest;
  float* hidden_units = buffers + 2 * n * widest;
  const float* x = rows;
  for (size_t l = 0; l < net.backbone_layers; ++l) {
    DenseForward(net.backbone[l], x, n, ping, Activation::kRelu);
    x = ping;
    std::swap(ping, pong);
  }
  AdapterForward(net.adapter, x, n, ping, hidden_units);
  DenseForward(net.head, ping, n, probs, Activation::kNone);
  if (net.softmax) {
    SoftmaxRows(probs, n, net.head.out);
  } else {
    SigmoidInPlace(probs, n * net.head.out);
  }
}

}  // namespace reflex::fused
