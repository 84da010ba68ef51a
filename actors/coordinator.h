// Coordinator actor: the fleet's one decision maker (DESIGN.md §3, §4).
//
//   - merges drift summaries exactly (drift_window.h) and decides heals by policy: mode auto
//     (drift by FIDI z or rule conflicts, enough rows, cooldown passed, evidence changed since
//     the last heal), manual (only `reflexctl heal`) or frozen (never); nothing while pinned;
//   - picks a live, least-loaded healer, watches healers (CAF monitors plus heartbeats) and
//     hands the job to another healer when one dies or times out;
//   - admits a candidate only after its own check (coordinator_runtime.h: AdmitCandidate, in a
//     detached actor) and the candidate still descending from the active version; then the
//     runtime records it in the registry and broadcasts it on the weight bus;
//   - watches the active version's health and rolls back automatically: with labels, the
//     HealthMonitor's accuracy/F1 drops against the version's first labelled window; without,
//     a positive rate outside the policy's bounds for rollback_window summaries; and on command;
//   - answers reflexctl's commands (coordinator_control.cc).
// A rollback or pin publishes the target's weights as a NEW version number (parent = the
// version it replaces, metric weights_of = the target), so versions only ever move forward on
// the bus and no fence has to trust a step back.
//
// State is owned by the actor; the behaviour never blocks (scoring a candidate runs detached).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/cluster_options.h"
#include "actors/coordinator_runtime.h"
#include "actors/drift_window.h"
#include "actors/interfaces.h"
#include "actors/metrics.h"
#include "core/health_monitor.h"
#include "core/metrics.h"

namespace reflex::actors {

struct ReplicaInfo {
  std::string id, endpoint;
  caf::actor handle;      // null until hello
  bool alive = true;
  int64_t last_summary_ms = 0;
  uint64_t served_version = 0;
  uint64_t rows_scored = 0;
};

struct HealerInfo {
  std::string id, device;
  caf::actor handle;
  uint32_t max_concurrent = 1, load = 0;
  int64_t last_beat_ms = 0;
  bool alive = true;
  uint64_t jobs = 0;
};

struct HealInFlight {
  uint64_t job_id = 0;
  uint64_t attempt = 0;          // bumped at each dispatch; stale replies are ignored
  std::string job_bytes;         // encoded wire::HealJob
  std::vector<float> rows;       // the job's rows (for admission)
  uint64_t parent = 0;
  std::string trigger;           // why it started
  std::string healer;            // current healer id ("" while none is free)
  std::set<std::string> tried;
  int64_t started_ms = 0;
  double reported_positive_rate = 0;
  std::optional<AdapterVersion> candidate;  // while being admitted
  std::map<std::string, double> metrics;
};

// Health of the active version since it became active.
struct VersionHealth {
  uint64_t version = 0;
  HealthMonitor monitor;
  Confusion bucket;              // labelled outcomes not yet observed
  std::deque<double> positive_rates;  // label-free proxy, one per summary with rows
};

struct CoordinatorState {
  CoordinatorOptions options;
  std::shared_ptr<prometheus::Registry> registry;
  CoordinatorMetrics metrics{};
  std::shared_ptr<CoordinatorRuntime> runtime;
  HealPolicy policy;
  std::optional<DriftWindow> drift;
  std::map<std::string, ReplicaInfo> replicas;
  std::map<std::string, HealerInfo> healers;
  std::optional<HealInFlight> heal;
  uint64_t next_job_id = 1;
  int64_t last_heal_ms = 0;            // last heal decision (cooldown)
  bool drifting = false;               // the drift reading is over a threshold now
  HealMode mode_before_freeze = HealMode::kAuto;  // what unfreeze restores
  double z_at_last_heal = -1;          // evidence at the last accepted heal
  uint64_t labelled_at_last_heal = 0;
  std::optional<uint64_t> pinned;      // version pinned by an operator
  VersionHealth health;
  std::deque<nlohmann::json> events;   // recent events, newest last (status, history)
  static inline const char* name = "reflex.coordinator";

  ~CoordinatorState();
};

coordinator_actor::behavior_type CoordinatorBehavior(coordinator_actor::stateful_pointer<CoordinatorState> self,
                                                     CoordinatorOptions options,
                                                     std::shared_ptr<CoordinatorRuntime> runtime);

// Starts the runtime (registry, epoch, weight bus), then spawns the actor.
Result<coordinator_actor> SpawnCoordinator(caf::actor_system& system, const CoordinatorOptions& options);

// --- Internals shared by coordinator.cc and coordinator_control.cc ---
using CoordinatorSelf = coordinator_actor::stateful_pointer<CoordinatorState>;
int64_t CoordinatorNowMs();
void RecordEvent(CoordinatorSelf self, const std::string& event, nlohmann::json fields);
// Starts a heal now (trigger names why). Error when one runs, no healer is alive, or too few rows.
Status StartHeal(CoordinatorSelf self, const std::string& trigger);
// Publishes the weights of `target` as the next version (rollback or pin).
Result<VersionRecord> PublishWeightsOf(CoordinatorSelf self, uint64_t target, const std::string& reason);
// The reply to one operator command.
wire::ControlReply HandleControl(CoordinatorSelf self, const wire::ControlRequest& request);

}  // namespace reflex::actors
