// ComputeThreads: how many threads LibTorch (intra-op) and OpenBLAS may use for one forward pass
// or heal in this process, and the CPU priority of background model work (heals).
//
// A serving process on a small machine wants one: its scoring workers already run in parallel,
// and intra-op threads on top of them fight the scheduler (TOOLCHAIN.md). Benchmarks set it so
// that "one core" means one core. Process-wide setting; call it from main before the first
// forward pass (LibTorch may refuse to change its inter-op pool later, intra-op is fine).
// Thread-safety: not for concurrent calls.
//
// Priority: on Linux a thread has its own nice value; LowerThisThreadPriority raises the calling
// thread's (only that thread's) nice value, so when a heal and scoring workers compete for a
// core the scheduler gives it to scoring, and the heal runs on what is idle. Measured by
// reflex-bench --suite serve-while-healing (p99 with heals at normal and at lowered priority).
// Raising a nice value needs no privilege; lowering it back does, so it is one-way.
#pragma once

#include "core/status.h"

namespace reflex {

// Sets LibTorch's intra-op thread count and, when the process's BLAS is OpenBLAS, its thread
// count too. n >= 1.
void SetComputeThreads(int n);

// LibTorch's intra-op thread count now.
int ComputeThreads();

// Sets the calling thread's nice value to `nice_value` (0..19; 19 is the lowest priority).
// InvalidArgument out of range; IoError with errno's text when the kernel refuses.
Status LowerThisThreadPriority(int nice_value = 19);

// Pins the calling thread (only it, and threads it starts afterwards, which inherit the mask) to
// core `cpu`, as taskset would: keeps a heal off the cores that serve. InvalidArgument for a
// negative core; IoError with errno's text when the kernel refuses (no such core, not allowed).
Status PinThisThreadToCore(int cpu);

}  // namespace reflex
