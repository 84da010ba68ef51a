// Coordinator actor: the fleet's one decision maker (docs/DESIGN.md §3, §4).
//
//   - merges drift summaries exactly (drift_window.h) and feeds them, with the labelled outcomes
//     replicas report against version 0 in shadow, to the heal controller
//     (control/heal_controller.h), the same one reflex-sim runs; it carries out the controller's
//     decisions: heal on the rows since the drift's onset, roll back, return to version 0;
//   - picks a live, least-loaded healer, watches healers (CAF monitors plus heartbeats) and
//     hands the job to another healer when one dies or times out;
//   - admits a candidate only after its own check (coordinator_runtime.h: AdmitCandidate, in a
//     detached actor) and the candidate still descending from the active version; then the
//     runtime records it in the registry and broadcasts it on the weight bus;
//   - rolls back on command, and automatically when the controller says so (health against
//     version 0 on the same labelled rows; drift gone);
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
#include "control/heal_controller.h"
#include "core/metrics.h"

namespace reflex::actors {

struct ReplicaInfo {
  std::string id, endpoint;
  caf::actor handle;      // null until hello
  bool alive = true;
  int64_t last_summary_ms = 0;
  uint64_t served_version = 0;
  uint64_t served_epoch = 0;      // with served_checksum: 0 until a summary says
  uint64_t served_checksum = 0;
  uint64_t highest_epoch = 0;     // the highest coordinator epoch its fence has seen
  uint64_t rows_scored = 0;
};

// Whether the replica serves exactly what the coordinator published: (epoch, version, checksum).
bool InStep(const ReplicaInfo& replica, const AdapterVersion& published);
// Whether the replica's fence is above `epoch`: it ignores everything this coordinator sends.
inline bool Fenced(const ReplicaInfo& replica, uint64_t epoch) { return replica.highest_epoch > epoch; }

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
  // > 0: its healer's link went down and no other healer was free; the job waits (at most
  // heal_timeout_ms) for a healer to join or come back, the same one included.
  int64_t waiting_since_ms = 0;
  double reported_positive_rate = 0;
  std::optional<AdapterVersion> candidate;  // while being admitted
  std::map<std::string, double> metrics;
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
  HealMode mode_before_freeze = HealMode::kAuto;  // what unfreeze restores
  std::optional<uint64_t> pinned;      // version pinned by an operator
  uint64_t refused_fleet_epoch = 0;
  std::map<std::string, std::string> policy_overrides;  // policy-set keys in force (persisted)
  std::optional<InterruptedHeal> interrupted_heal;      // found on start-up, abandoned (status)    // a replica epoch already reported as not followable
  // When to heal, roll back or return to version 0: the same controller reflex-sim runs.
  control::HealController controller{control::ControllerConfig{}};
  double clean_accuracy = 1.0;         // version 0 on the bundle's clean sample
  std::optional<double> clean_prior_estimate;  // EstimateStreamPrior on version 0's posteriors of that sample
  std::deque<float> anchor_probs;      // version 0's probabilities of recent sample rows (prior estimate)
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
// Publishes the weights of `target` as the next version (rollback or pin); `origin` tells the
// heal controller whose choice it was (an operator's is never undone automatically).
Result<VersionRecord> PublishWeightsOf(CoordinatorSelf self, uint64_t target, const std::string& reason,
                                       control::Origin origin);
// Persists mode, pin, policy-set keys, the next job id and the heal in flight to the registry
// (OPERATOR, atomically); a failure is recorded as an event. Call after each change.
void SaveOperatorState(CoordinatorSelf self);
// On start-up: applies the saved operator state over the configured policy, and records a heal
// that was in flight when the previous coordinator stopped as interrupted and abandoned (its rows
// were not persisted; the controller starts a new heal if the drift is still there).
void RestoreOperatorState(CoordinatorSelf self);
// The reply to one operator command.
wire::ControlReply HandleControl(CoordinatorSelf self, const wire::ControlRequest& request);

}  // namespace reflex::actors
