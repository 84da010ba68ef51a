#include "model/compute_threads.h"

#include <dlfcn.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

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

Status LowerThisThreadPriority(int nice_value) {
  if (nice_value < 0 || nice_value > 19) {
    return Status::InvalidArgument("nice value must be 0..19, not " + std::to_string(nice_value));
  }
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, nice_value) != 0) {
    return Status::IoError("setpriority(thread " + std::to_string(tid) + "): " + std::strerror(errno));
  }
  return Status();
}

Status PinThisThreadToCore(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return Status::InvalidArgument("core must be 0.." + std::to_string(CPU_SETSIZE - 1) + ", not " + std::to_string(cpu));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    return Status::IoError("sched_setaffinity(core " + std::to_string(cpu) + "): " + std::strerror(errno));
  }
  return Status();
}

}  // namespace reflex
