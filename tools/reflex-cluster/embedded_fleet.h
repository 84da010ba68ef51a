// EmbeddedFleet: a coordinator, a healer and N replicas in one process, started and stopped as
// one value. Both modes of reflex-cluster (a built-in scenario, a user's CSV) run on it, so they
// take the same path: one CAF actor system, the weight bus over inproc:// on one shared ZeroMQ
// context, the registry in memory, each replica's real scoring endpoint on 127.0.0.1 (an
// ephemeral port) for the caller's transport::ScoringClient.
//
// Ownership: owns the actor system and every actor; the destructor stops them all (it waits for
// the actors to finish). Threading: the methods block (seconds at most) and may be called from
// one thread at a time, normally the tool's main thread; the event logs of FleetOptions are
// called from actor and transport threads. Units: milliseconds (_ms), rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/cluster_options.h"
#include "core/heal_policy.h"
#include "core/status.h"
#include "model/model_bundle.h"

namespace reflex::sim {

struct FleetOptions {
  int replicas = 3;
  int summary_rows = 100;         // a replica sends a drift summary once it has scored this many rows
  int summary_interval_ms = 300;  // ... or once this long has passed since its last one
  HealPolicy policy;              // the coordinator's
  // The event log of each actor, by name ("coordinator", "healer-1", "replica-1", ...); may be
  // empty (no logs). Called once per actor while the fleet starts.
  std::function<actors::EventLog(const std::string& who)> log_for;
};

class EmbeddedFleet {
 public:
  // Starts every actor and waits (at most 30 s) until every replica is ready to score.
  static Result<std::unique_ptr<EmbeddedFleet>> Start(std::shared_ptr<const ModelBundle> bundle,
                                                       const FleetOptions& options);
  ~EmbeddedFleet();
  EmbeddedFleet(const EmbeddedFleet&) = delete;
  EmbeddedFleet& operator=(const EmbeddedFleet&) = delete;

  // The replicas' scoring endpoints, replica-1 first.
  const std::vector<std::string>& endpoints() const;
  // The coordinator's control "status" body (PROTOCOL.md); null when it did not answer in 5 s.
  nlohmann::json CoordinatorStatus();
  // Replica i's status (0-based: replica-(i+1)); null when it did not answer in 2 s.
  nlohmann::json ReplicaStatus(size_t i);

 private:
  struct Impl;
  explicit EmbeddedFleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Polls `pred` every `poll` until it holds or `timeout` has passed; returns its last value.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(50));

}  // namespace reflex::sim
