// BenchCluster: a coordinator, one healer and N replicas as CAF actors in this process (the
// embedded cluster's shape: weight bus over inproc:// on one shared ZeroMQ context, scoring on
// real 127.0.0.1 endpoints), with every actor event time-stamped on arrival, so the cluster
// suites can split a heal into its phases and measure an idle fleet.
//
// Ownership: owns the actor system and its actors; everything stops in the destructor.
// events() may be read from any thread (it locks). Units: steady-clock time points.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "actors/interfaces.h"
#include "core/heal_policy.h"
#include "core/status.h"
#include "model/model_bundle.h"

namespace reflex::bench {

using Clock = std::chrono::steady_clock;

struct BenchClusterOptions {
  int replicas = 3;
  bool tuned_scheduler = true;  // actors/scheduler_tuning.h, as the services use it
  int summary_rows = 100;
  int summary_interval_ms = 300;
  int scoring_workers = 1;
  HealPolicy policy;
};

// Every event the actors logged, with its arrival time.
class EventRecorder {
 public:
  struct Event {
    std::string who, name;
    nlohmann::json fields;
    Clock::time_point at;
  };
  void Record(const std::string& who, const std::string& name, const nlohmann::json& fields);
  // The first event named `name` at or after `after` for which `match` holds; waits up to
  // `timeout` for it.
  std::optional<Event> WaitFor(const std::string& name, Clock::time_point after, std::chrono::milliseconds timeout,
                               const std::function<bool(const Event&)>& match = nullptr);
  // Every event named `name` since `after` that matches (no wait), in arrival order.
  std::vector<Event> All(const std::string& name, Clock::time_point after,
                         const std::function<bool(const Event&)>& match = nullptr);
  // How many events named `name` matched since `after` (no wait).
  size_t Count(const std::string& name, Clock::time_point after, const std::function<bool(const Event&)>& match = nullptr);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

class BenchCluster {
 public:
  // Starts everything and waits (at most 60 s) until every replica serves version 0.
  static Result<std::unique_ptr<BenchCluster>> Start(std::shared_ptr<const ModelBundle> bundle,
                                                     const BenchClusterOptions& options);
  ~BenchCluster();

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  EventRecorder& events() { return events_; }

 private:
  BenchCluster() = default;
  void StopAll();

  EventRecorder events_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<zmq::context_t> context_;
  std::optional<actors::coordinator_actor> coordinator_;
  std::optional<actors::healer_actor> healer_;
  std::vector<actors::replica_actor> replicas_;
  std::vector<std::string> endpoints_;
};

}  // namespace reflex::bench
