// ServedReplica: one replica's serving path, as in production, inside the benchmark process: a
// ReplicaRuntime (ZeroMQ scoring server with dynamic batching, ServingEngine, drift
// accumulation) whose versions arrive over a real weight bus (WeightPublisher on 127.0.0.1,
// ephemeral ports). The serve suites load it from a separate load-generator process.
//
// Swaps: PublishNextVersion() publishes a new adapter version (the served weights, nudged so the
// replica really compiles and swaps a different snapshot) on the bus, exactly as the
// coordinator does after a heal.
//
// Ownership: owns its ZeroMQ context, publisher and runtime; destroy on the thread that made it.
// PublishNextVersion and served_version may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <zmq.hpp>

#include "actors/replica_runtime.h"
#include "core/status.h"
#include "model/model_bundle.h"
#include "transport/weight_publisher.h"

namespace reflex::bench {

class ServedReplica {
 public:
  // Starts the bus and the replica and waits (at most 10 s) until it serves version 0.
  static Result<std::unique_ptr<ServedReplica>> Start(std::shared_ptr<const ModelBundle> bundle, bool batching,
                                                      int workers);
  ~ServedReplica();

  const std::string& endpoint() const { return runtime_->endpoint(); }
  uint64_t served_version() const { return runtime_->served_version(); }
  transport::ScoringServerStats server_stats() const { return runtime_->server_stats(); }
  // Publishes the next version; the replica applies it asynchronously.
  Status PublishNextVersion();

 private:
  ServedReplica() = default;
  std::shared_ptr<zmq::context_t> context_;
  std::unique_ptr<transport::WeightPublisher> publisher_;
  std::unique_ptr<actors::ReplicaRuntime> runtime_;
  std::mutex publish_mu_;
  AdapterVersion last_;  // guarded by publish_mu_
};

}  // namespace reflex::bench
