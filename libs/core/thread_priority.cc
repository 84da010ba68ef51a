#include "core/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace reflex {

Status LowerThisThreadPriority(int nice_value) {
  if (nice_value < 0 || nice_value > 19) return Status::InvalidArgument("nice value must be 0..19, not " + std::to_string(nice_value));
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, tid, nice_value) != 0) {
    return Status::IoError(std::string("setpriority(thread ") + std::to_string(tid) + "): " + std::strerror(errno));
  }
  return Status();
}

}  // namespace reflex
