// Thread priority: lets background work (heals) yield the CPU to serving on the same machine.
//
// On Linux a thread has its own nice value; LowerThisThreadPriority raises the calling thread's
// (only that thread's) nice value, so when a heal and scoring workers compete for a core the
// scheduler gives the core to scoring, and the heal still runs on whatever is idle. Measured by
// reflex-bench --suite serve-while-healing (p99 with heals at normal and at lowered priority).
// Raising a nice value needs no privilege; lowering it back does, so this is one-way.
#pragma once

#include "core/status.h"

namespace reflex {

// Sets the calling thread's nice value to `nice_value` (0..19; 19 is the lowest priority).
// IoError with errno's text when the kernel refuses.
Status LowerThisThreadPriority(int nice_value = 19);

}  // namespace reflex
