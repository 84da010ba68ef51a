// Replica actor: a ReplicaRuntime (scoring, weight bus, drift accumulation) plus its link to the
// coordinator (docs/DESIGN.md §4).
//
// Each summary carries the served (epoch, checksum) and the highest epoch the bus fence has
// seen; while that epoch is above the coordinator's last known epoch, the replica says hello
// again (at most once a second) to learn the coordinator's current epoch.
// Every tick (at most every 50 ms) it sends the coordinator a drift summary when summary_rows
// rows have been scored or summary_interval_ms has passed since the last one (an empty summary
// then doubles as the replica's heartbeat). It joins the coordinator with hello (connector.h)
// and joins again after losing it; while the coordinator is away it keeps serving its last good
// version and drops summaries (counted). Labels it cannot join go to the coordinator, which
// relays them to the other replicas.
//
// The runtime is created before the actor (so a bind failure is reported to the caller) and
// owned by the actor's state from then on; the state's destructor stops it (answers every
// accepted request). Threading: the behaviour runs on the CAF scheduler and never blocks.
#pragma once

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/cluster_options.h"
#include "actors/interfaces.h"
#include "actors/replica_runtime.h"

namespace reflex::actors {

struct ReplicaState {
  ReplicaOptions options;
  std::shared_ptr<ReplicaRuntime> runtime;
  coordinator_actor coordinator;
  uint64_t epoch = 0;            // the coordinator's epoch, from its last hello reply
  int64_t last_hello_ms = 0;
  int64_t last_summary_ms = 0;
  // Fenced: the weight bus has seen an epoch above this replica's coordinator's, so the fence
  // drops everything that coordinator sends (a lost EPOCH file, a second coordinator). Visible
  // in status, /readyz and reflex_fenced; it ends when the coordinator moves above that epoch
  // (it learns the epoch from this replica's summaries) and a new hello says so.
  bool fenced() const;
  uint64_t summaries_sent = 0, summaries_dropped = 0;
  static inline const char* name = "reflex.replica";
};

// The runtime must have been started with an unmatched-label handler that forwards to this
// actor (see SpawnReplica).
replica_actor::behavior_type ReplicaBehavior(replica_actor::stateful_pointer<ReplicaState> self, ReplicaOptions options,
                                             std::shared_ptr<ReplicaRuntime> runtime);

// Starts the runtime, then spawns the actor. Errors (bind, bundle) come back before any actor
// exists.
Result<replica_actor> SpawnReplica(caf::actor_system& system, const ReplicaOptions& options);

}  // namespace reflex::actors
