#include "embedded_fleet.h"

#include <chrono>
#include <thread>

#include <caf/all.hpp>
#include <zmq.hpp>

#include "actors/coordinator.h"
#include "actors/healer.h"
#include "actors/replica.h"
#include "actors/scheduler_tuning.h"
#include "actors/wire_payload.h"
#include "model/compute_threads.h"

namespace reflex::sim {

struct EmbeddedFleet::Impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  actors::coordinator_actor coordinator;
  caf::actor healer;
  std::vector<actors::replica_actor> replicas;
  std::vector<std::string> endpoints;

  void StopActors() {
    for (auto& r : replicas) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    if (healer) caf::anon_send_exit(healer, caf::exit_reason::user_shutdown);
    if (coordinator) caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
  }
  ~Impl() {
    StopActors();
    system.reset();  // waits for every actor to finish
  }
};

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(poll);
  }
  return pred();
}

EmbeddedFleet::EmbeddedFleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedFleet::~EmbeddedFleet() = default;

const std::vector<std::string>& EmbeddedFleet::endpoints() const { return impl_->endpoints; }

Result<std::unique_ptr<EmbeddedFleet>> EmbeddedFleet::Start(std::shared_ptr<const ModelBundle> bundle,
                                                            const FleetOptions& opt) {
  if (!bundle || opt.replicas < 1) return Status::InvalidArgument("an embedded fleet needs a bundle and one replica at least");
  auto log_for = [&](const std::string& who) { return opt.log_for ? opt.log_for(who) : actors::EventLog(); };
  // One LibTorch thread per model call: the scoring workers and the heal already run in
  // parallel (services/common/service_start.h, ConfigureCompute, says what intra-op threads cost).
  SetComputeThreads(1);
  auto impl = std::make_unique<Impl>();
  impl->cfg.set("logger.verbosity", caf::atom("quiet"));
  actors::TuneSchedulerForIdleActors(impl->cfg);
  impl->system = std::make_unique<caf::actor_system>(impl->cfg);

  actors::CoordinatorOptions co;
  co.bundle = bundle;
  co.registry_dir = "";  // in memory
  co.weights_publish = "inproc://reflex-weights";
  co.weights_snapshot = "inproc://reflex-weights-snapshot";
  co.zmq_context = impl->context;
  co.policy = opt.policy;
  co.log = log_for("coordinator");
  auto coordinator = actors::SpawnCoordinator(*impl->system, co);
  if (!coordinator.ok()) return coordinator.status();
  impl->coordinator = *coordinator;

  actors::HealerOptions ho;
  ho.bundle = bundle;
  ho.coordinator.local = caf::actor_cast<caf::actor>(impl->coordinator);
  ho.device = "auto";
  ho.log = log_for("healer-1");
  impl->healer = caf::actor_cast<caf::actor>(impl->system->spawn(actors::HealerBehavior, ho));

  for (int i = 1; i <= opt.replicas; ++i) {
    actors::ReplicaOptions ro;
    ro.id = "replica-" + std::to_string(i);
    ro.bundle = bundle;
    ro.scoring_endpoint = "tcp://127.0.0.1:*";
    ro.coordinator.local = caf::actor_cast<caf::actor>(impl->coordinator);
    ro.weights_publish = co.weights_publish;
    ro.weights_snapshot = co.weights_snapshot;
    ro.zmq_context = impl->context;
    ro.summary_rows = opt.summary_rows;
    ro.summary_interval_ms = opt.summary_interval_ms;
    ro.log = log_for(ro.id);
    auto r = actors::SpawnReplica(*impl->system, ro);
    if (!r.ok()) return r.status();  // ~Impl stops what started
    impl->replicas.push_back(*r);
  }
  std::unique_ptr<EmbeddedFleet> fleet(new EmbeddedFleet(std::move(impl)));
  std::vector<std::string>& endpoints = fleet->impl_->endpoints;
  const bool ready = WaitUntil(
      [&] {
        endpoints.clear();
        for (size_t i = 0; i < fleet->impl_->replicas.size(); ++i) {
          nlohmann::json s = fleet->ReplicaStatus(i);
          if (!s.is_object() || !s.value("ready", false)) return false;
          endpoints.push_back(s.value("endpoint", std::string()));
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!ready) return Status::Unavailable("the replicas did not become ready within 30 s");
  return fleet;
}

nlohmann::json EmbeddedFleet::ReplicaStatus(size_t i) {
  nlohmann::json out;
  if (i >= impl_->replicas.size()) return out;
  caf::scoped_actor self{*impl_->system};
  self->request(impl_->replicas[i], std::chrono::seconds(2), actors::status_atom::value)
      .receive([&](std::string& j) { out = nlohmann::json::parse(j, nullptr, false); }, [&](caf::error&) {});
  return out;
}

nlohmann::json EmbeddedFleet::CoordinatorStatus() {
  wire::ControlRequest req;
  req.command = "status";
  nlohmann::json out;
  caf::scoped_actor self{*impl_->system};
  self->request(impl_->coordinator, std::chrono::seconds(5), actors::control_atom::value, actors::EncodePayload(req))
      .receive(
          [&](std::string& bytes) {
            auto reply = actors::DecodePayload<wire::ControlReply>(bytes, "control reply");
            if (reply.ok() && reply->error == wire::ErrorCode::kOk) out = nlohmann::json::parse(reply->body_json, nullptr, false);
          },
          [&](caf::error&) {});
  return out;
}

}  // namespace reflex::sim
