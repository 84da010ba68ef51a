#include "model/compute_threads.h"

#include <dlfcn.h>

#include <algorithm>

#include <ATen/Parallel.h>

namespace reflex {

void SetComputeThreads(int n) {
  n = std::max(1, n);
  at::set_num_threads(n);
  // OpenBLAS keeps its own pool; LibTorch does not resize it. Found at run time so that a
  // reference BLAS (no such symbol) still links and runs.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

int ComputeThreads() { return at::get_num_threads(); }

}  // namespace reflex
