// ReplicaRuntime: the non-actor half of a replica: its serving engine, scoring server, weight
// subscriber and drift accumulator, wired together (docs/DESIGN.md §4).
//
//   client ─ScoreRequest─► ScoringServer ─► EngineScorer ─► ServingEngine ─► reply
//                                └─ scored_sink ─► DriftAccumulator (stats, sample, label cache)
//   client ─LabelFeedback─► ScoringServer ─ label_sink ─► DriftAccumulator.Label
//                                                 └─ not joined ─► unmatched-label handler
//   coordinator ─weight bus─► WeightSubscriber ─ on_apply ─► ServingEngine.Publish, ready
//
// Readiness: the scorer answers kNotReady until the subscriber has applied a version from the
// coordinator (the fleet's current version); after that the replica keeps serving its last good
// version whatever happens to the coordinator. A version equal to the one served (the same
// number and weights, e.g. re-published under a new epoch after a coordinator restart) is taken
// as confirmation; an older or broken one is refused by the fence or the engine and logged.
//
// Ownership and threads: Start() owns everything it creates. Stop() (and the destructor) stops
// the scoring server first (every accepted request is answered), then the subscriber. Methods
// are thread-safe; the unmatched-label handler runs on the scoring server's I/O thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <zmq.hpp>

#include "actors/cluster_options.h"
#include "actors/drift_accumulator.h"
#include "actors/engine_scorer.h"
#include "actors/metrics.h"
#include "model/serving_engine.h"
#include "transport/scoring_server.h"
#include "transport/weight_subscriber.h"

namespace reflex::actors {

class ReplicaRuntime {
 public:
  using UnmatchedLabel = std::function<void(const wire::LabelFeedback&)>;

  // Binds the scoring endpoint and starts the subscriber. `unmatched` receives labels for rows
  // this replica does not remember. Errors name the endpoint or the bundle problem.
  static Result<std::unique_ptr<ReplicaRuntime>> Start(const ReplicaOptions& options, UnmatchedLabel unmatched);
  ~ReplicaRuntime();
  ReplicaRuntime(const ReplicaRuntime&) = delete;
  ReplicaRuntime& operator=(const ReplicaRuntime&) = delete;

  void Stop();

  const std::string& endpoint() const { return endpoint_; }   // resolved scoring endpoint
  bool ready() const { return scorer_->ready(); }
  uint64_t served_version() const { return engine_->Current()->adapter.version; }
  // (epoch, checksum) of the served adapter, and the highest coordinator epoch the weight-bus
  // fence has seen (0 before any).
  // Those of the version last applied or confirmed from the bus (a re-stamped version with the
  // same number and weights is confirmed, not re-published to the engine); 0 before any.
  struct ServedIdentity {
    uint64_t version = 0, epoch = 0, checksum = 0;
  };
  ServedIdentity served_identity() const;
  uint64_t highest_epoch() const { return subscriber_->stats().highest_epoch; }
  DriftAccumulator& drift() { return *drift_; }
  const ReplicaMetrics& metrics() const { return metrics_; }
  transport::ScoringServerStats server_stats() const { return server_->stats(); }
  transport::WeightSubscriberStats bus_stats() const { return subscriber_->stats(); }
  const char* bus_state() const { return transport::PublisherStateName(subscriber_->state()); }

 private:
  ReplicaRuntime() = default;
  void Apply(const AdapterVersion& version);  // subscriber thread
  // Joins a delayed label to a remembered row, or forwards it when this replica does not know
  // the request (scoring server's I/O thread).
  transport::LabelOutcome JoinLabel(const wire::LabelFeedback& label);

  ReplicaOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  ReplicaMetrics metrics_{};
  std::shared_ptr<ServingEngine> engine_;
  std::shared_ptr<DriftAccumulator> drift_;
  std::shared_ptr<EngineScorer> scorer_;
  UnmatchedLabel unmatched_;
  std::shared_ptr<zmq::context_t> zmq_;
  std::unique_ptr<transport::WeightSubscriber> subscriber_;
  std::unique_ptr<transport::ScoringServer> server_;
  std::string endpoint_;
  mutable std::mutex served_mutex_;  // guards the two below (subscriber thread writes)
  ServedIdentity served_;
};

}  // namespace reflex::actors
