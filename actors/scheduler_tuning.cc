#include "actors/scheduler_tuning.h"

#include <chrono>

namespace reflex::actors {

void TuneSchedulerForIdleActors(caf::actor_system_config& config) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  // A short aggressive burst still catches a message that follows right behind another.
  config.set("work-stealing.aggressive-poll-attempts", size_t{10});
  config.set("work-stealing.aggressive-steal-interval", size_t{10});
  // A short moderate phase (10 x 200 us = 2 ms) instead of 500 x 50 us = 25 ms.
  config.set("work-stealing.moderate-poll-attempts", size_t{10});
  config.set("work-stealing.moderate-steal-interval", size_t{5});
  config.set("work-stealing.moderate-sleep-duration", caf::timespan{microseconds(200)});
  config.set("work-stealing.relaxed-steal-interval", size_t{1});
  config.set("work-stealing.relaxed-sleep-duration", caf::timespan{milliseconds(10)});
}

}  // namespace reflex::actors
