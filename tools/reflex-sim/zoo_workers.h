// The drift zoo's worker processes: RunZooInWorkers forks min(options.jobs, units) children,
// which take units one at a time from a counter in shared memory (so heavy and light runs
// balance out), run each with RunZooUnit on options.threads LibTorch threads, and write one JSON
// line per unit to their own file in a private temporary folder; the parent waits for every
// child, reads the rows back (zoo_report.h's ZooRowFromJson) and returns them in unit order.
//
// Why processes and not threads: training seeds LibTorch's process-wide generator, so two
// experiments cannot run at once in one process and stay deterministic; in separate processes
// each experiment is exactly what it is alone. Call from a single-threaded process that has
// not yet started LibTorch's thread pools (fork keeps only the calling thread), as reflex-sim's
// main does. The first failing experiment stops the other workers after their current unit;
// its Status is returned. Internal when fork, mmap or the temporary folder fail.
#pragma once

#include <vector>

#include "core/status.h"
#include "zoo.h"

namespace reflex::sim {

Result<std::vector<ZooRow>> RunZooInWorkers(const std::vector<ZooUnit>& units, const ZooOptions& options);

}  // namespace reflex::sim
