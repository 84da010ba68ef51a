// Healer actor: runs heal jobs for the coordinator (docs/DESIGN.md §3, §4).
//
// A job arrives as an encoded wire::HealJob (interfaces.h). The healer turns it into a core
// HealJob (policy from its key/value map, the bundle's rules) and runs reflex::Heal in a
// detached worker actor, so LibTorch never blocks the cooperative scheduler (a K-class bundle's
// job runs the multi-class heal: Heal dispatches to HealMulticlass); jobs beyond
// max_concurrent wait in a queue. The reply is an encoded wire::HealResult: a candidate when the
// healer's gate accepted one, otherwise the reason (a refused or failed job is a result too, with
// reason "error: ...", so the coordinator always learns what happened).
// Heals run on CUDA when the device option allows it and LibTorch sees a device, else on CPU.
// The healer joins the coordinator (connector.h), sends a heartbeat with its load every
// heartbeat_ms, and joins again when the coordinator goes down.
//
// State is owned by the actor (HealerState); workers share only immutable bundle parts.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/cluster_options.h"
#include "actors/interfaces.h"
#include "actors/metrics.h"

namespace reflex::actors {

struct HealerState {
  HealerOptions options;
  std::shared_ptr<prometheus::Registry> registry;
  HealerMetrics metrics{};
  bool use_cuda = false;
  std::string device = "cpu";
  coordinator_actor coordinator;
  struct Pending {
    std::string job_bytes;
    caf::typed_response_promise<std::string> promise;
  };
  std::deque<std::pair<uint64_t, Pending>> queued;  // waiting for a free worker
  std::map<uint64_t, Pending> running;              // by worker id
  uint64_t next_worker = 0;
  static inline const char* name = "reflex.healer";
};

// Whether the options' device setting runs heals on CUDA here; error for "cuda" without a device
// or an unknown setting.
Result<bool> ResolveHealerDevice(const std::string& device);

healer_actor::behavior_type HealerBehavior(healer_actor::stateful_pointer<HealerState> self, HealerOptions options);

// Runs one encoded job to an encoded result; blocking (the worker's body, exposed for tests).
std::string RunHealJob(const ModelBundle& bundle, const std::string& healer_id, bool use_cuda,
                       const std::string& job_bytes);

}  // namespace reflex::actors
