// FusedForward: the forward pass of Reflex's own parts (the built-in MLP backbone, the adapter
// and a built-in linear head) as single-threaded CBLAS calls (OpenBLAS at run time) on
// per-thread scratch buffers, with the elementwise passes (bias, ReLU, tanh, sigmoid, softmax)
// as vectorised loops. HealableModel::Score uses it whenever these parts are built in;
// TorchScript parts keep LibTorch. It equals the LibTorch path to 1e-5 (tests/model).
//
// Ownership: every pointer is borrowed for the duration of one call. Weights are row-major
// [out, in], as LibTorch's Linear stores them. Scratch memory is thread_local, grown on demand
// and kept for the thread's life: after a thread's first call at a batch size, a call allocates
// nothing.
// Thread-safety: reentrant; concurrent calls share only the (read-only) weights. The BLAS
// thread count is the process's (model/compute_threads.h): serving processes set it to 1.
// Units: float32 values; rows are row-major n x cols.
#pragma once

#include <cstddef>

namespace reflex::fused {

// One linear layer y = x W^T + b: w is [out, in] row-major, b has `out` values.
struct Dense {
  const float* w = nullptr;
  const float* b = nullptr;
  size_t out = 0, in = 0;
};

// The adapter y = x + scale * W2 tanh(W1 x + b1) + b2 (model/healable_model.h).
struct Adapter {
  Dense inner;  // W1 [hidden, width], b1 [hidden]
  const float* w2 = nullptr;  // [width, hidden]
  const float* b2 = nullptr;  // [width]
  float scale = 0;
};

// A network of built-in parts: up to kMaxBackbone ReLU layers, the adapter, a linear head.
struct Network {
  static constexpr size_t kMaxBackbone = 2;
  Dense backbone[kMaxBackbone];
  size_t backbone_layers = 0;  // 0: rows are already the adapter's input (an embedding)
  Adapter adapter;
  Dense head;                  // width -> outputs
  bool softmax = false;        // true: softmax over the head's outputs; false: sigmoid of each
};

enum class Activation { kNone, kRelu };

// out[n x d.out] = act(x[n x d.in] W^T + b).
void DenseForward(const Dense& d, const float* x, size_t n, float* out, Activation act);
// y[n x width] from x[n x width]; hidden_scratch holds n x hidden floats.
void AdapterForward(const Adapter& a, const float* x, size_t n, float* y, float* hidden_scratch);
// probs[n x head.out] for rows[n x input]: sigmoid (binary) or softmax (multi-class) outputs.
void Forward(const Network& net, const float* rows, size_t n, float* probs);

// Elementwise passes, exposed for tests. Accurate to a few float ulps of tanh, sigmoid and exp.
void TanhInPlace(float* x, size_t n);
void SigmoidInPlace(float* x, size_t n);
void SoftmaxRows(float* x, size_t rows, size_t k);

}  // namespace reflex::fused
