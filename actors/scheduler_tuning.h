// Scheduler tuning: CAF 0.17's work-stealing scheduler settings for Reflex processes, whose
// actors are mostly idle between short messages (a replica's 50 ms tick, summaries, heartbeats).
//
// With CAF's defaults a worker that runs out of work polls aggressively (100 attempts), then
// moderately (500 attempts, 50 us apart, about 25 ms), and only then sleeps 10 ms between
// attempts. A replica's 50 ms tick wakes a worker every 50 ms, so every worker spends about
// half of its time in the moderate polling phase: an idle replica burns CPU (measured with
// reflex-bench --suite coordinator, figure idle_cpu_percent_per_replica). Fewer, sparser polls
// cost a little wake-up latency on an idle scheduler (at most relaxed_sleep) and nothing under
// load, where workers find work without polling.
//
// Plain functions; call before the actor_system is constructed from the config.
#pragma once

#include <caf/all.hpp>

namespace reflex::actors {

// Sets the work-stealing poll and sleep settings described above (the scheduler's thread count
// is left to CAF: one per core).
void TuneSchedulerForIdleActors(caf::actor_system_config& config);

}  // namespace reflex::actors
