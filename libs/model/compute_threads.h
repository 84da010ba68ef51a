// ComputeThreads: how many threads LibTorch (intra-op) and OpenBLAS may use for one forward pass
// or heal in this process.
//
// A serving process on a small machine wants one: its scoring workers already run in parallel,
// and intra-op threads on top of them fight the scheduler (TOOLCHAIN.md). Benchmarks set it so
// that "one core" means one core. Process-wide setting; call it from main before the first
// forward pass (LibTorch may refuse to change its inter-op pool later, intra-op is fine).
// Thread-safety: not for concurrent calls.
#pragma once

namespace reflex {

// Sets LibTorch's intra-op thread count and, when the process's BLAS is OpenBLAS, its thread
// count too. n >= 1.
void SetComputeThreads(int n);

// LibTorch's intra-op thread count now.
int ComputeThreads();

}  // namespace reflex
