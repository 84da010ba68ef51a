#include "bench_cluster.h"

#include <thread>

#include "actors/coordinator.h"
#include "actors/healer.h"
#include "actors/replica.h"
#include "actors/scheduler_tuning.h"

namespace reflex::bench {

void EventRecorder::Record(const std::string& who, const std::string& name, const nlohmann::json& fields) {
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(Event{who, name, fields, now});
  cv_.notify_all();
}

std::optional<EventRecorder::Event> EventRecorder::WaitFor(const std::string& name, Clock::time_point after,
                                                           std::chrono::milliseconds timeout,
                                                           const std::function<bool(const Event&)>& match) {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<Event> found;
  size_t scanned = 0;
  cv_.wait_for(lock, timeout, [&] {
    for (; scanned < events_.size(); ++scanned) {
      const Event& e = events_[scanned];
      if (e.name == name && e.at >= after && (!match || match(e))) {
        found = e;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::vector<EventRecorder::Event> EventRecorder::All(const std::string& name, Clock::time_point after,
                                                    const std::function<bool(const Event&)>& match) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Event> out;
  for (const Event& e : events_) {
    if (e.name == name && e.at >= after && (!match || match(e))) out.push_back(e);
  }
  return out;
}

size_t EventRecorder::Count(const std::string& name, Clock::time_point after, const std::function<bool(const Event&)>& match) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const Event& e : events_) n += e.name == name && e.at >= after && (!match || match(e));
  return n;
}

Result<std::unique_ptr<BenchCluster>> BenchCluster::Start(std::shared_ptr<const ModelBundle> bundle,
                                                          const BenchClusterOptions& options) {
  if (options.replicas < 1) return Status::InvalidArgument("a bench cluster needs at least one replica");
  std::unique_ptr<BenchCluster> c(new BenchCluster());
  c->config_ = std::make_unique<caf::actor_system_config>();
  c->config_->set("logger.verbosity", caf::atom("quiet"));
  if (options.tuned_scheduler) actors::TuneSchedulerForIdleActors(*c->config_);
  c->system_ = std::make_unique<caf::actor_system>(*c->config_);
  c->context_ = std::make_shared<zmq::context_t>(1);
  BenchCluster* raw = c.get();
  auto log_for = [raw](const std::string& who) -> actors::EventLog {
    return [raw, who](const std::string& event, const nlohmann::json& f) { raw->events_.Record(who, event, f); };
  };

  actors::CoordinatorOptions co;
  co.bundle = bundle;
  co.registry_dir = "";
  co.weights_publish = "inproc://bench-weights";
  co.weights_snapshot = "inproc://bench-weights-snapshot";
  co.zmq_context = c->context_;
  co.policy = options.policy;
  co.log = log_for("coordinator");
  auto coordinator = actors::SpawnCoordinator(*c->system_, co);
  if (!coordinator.ok()) return coordinator.status();
  c->coordinator_ = *coordinator;

  actors::HealerOptions ho;
  ho.bundle = bundle;
  ho.coordinator.local = caf::actor_cast<caf::actor>(*coordinator);
  ho.device = "cpu";
  ho.log = log_for("healer-1");
  c->healer_ = c->system_->spawn(actors::HealerBehavior, ho);

  for (int i = 1; i <= options.replicas; ++i) {
    actors::ReplicaOptions ro;
    ro.id = "replica-" + std::to_string(i);
    ro.bundle = bundle;
    ro.scoring_endpoint = "tcp://127.0.0.1:*";
    ro.scoring_workers = options.scoring_workers;
    ro.coordinator.local = caf::actor_cast<caf::actor>(*coordinator);
    ro.weights_publish = co.weights_publish;
    ro.weights_snapshot = co.weights_snapshot;
    ro.zmq_context = c->context_;
    ro.summary_rows = options.summary_rows;
    ro.summary_interval_ms = options.summary_interval_ms;
    ro.log = log_for(ro.id);
    auto r = actors::SpawnReplica(*c->system_, ro);
    if (!r.ok()) return r.status();
    c->replicas_.push_back(*r);
  }
  // Ready: every replica answers its status with ready = true (it holds the fleet's version).
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  caf::scoped_actor self{*c->system_};
  for (const auto& replica : c->replicas_) {
    bool ready = false;
    while (!ready && Clock::now() < deadline) {
      self->request(replica, std::chrono::seconds(2), actors::status_atom::value)
          .receive(
              [&](std::string& json) {
                const nlohmann::json s = nlohmann::json::parse(json, nullptr, false);
                if (s.is_object() && s.value("ready", false)) {
                  ready = true;
                  c->endpoints_.push_back(s.value("endpoint", std::string()));
                }
              },
              [&](caf::error&) {});
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!ready) return Status::Unavailable("a bench replica did not become ready within 60 s");
  }
  return c;
}

void BenchCluster::StopAll() {
  for (auto& r : replicas_) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  if (healer_) caf::anon_send_exit(*healer_, caf::exit_reason::user_shutdown);
  if (coordinator_) caf::anon_send_exit(*coordinator_, caf::exit_reason::user_shutdown);
  replicas_.clear();
}

BenchCluster::~BenchCluster() {
  StopAll();
  // The actor system's destructor waits for every actor; the ZeroMQ context outlives them.
  system_.reset();
  context_.reset();
}

}  // namespace reflex::bench
