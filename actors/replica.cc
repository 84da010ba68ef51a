#include "actors/replica.h"

#include <chrono>
#include <mutex>

#include "actors/connector.h"
#include "actors/wire_payload.h"

namespace reflex::actors {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Hands unmatched labels from the scoring server's thread to the actor once it exists.
struct LabelForwarder {
  std::mutex mu;
  caf::actor_addr target;  // weak: the runtime (which holds this) must not keep its actor alive
  void operator()(const wire::LabelFeedback& label) {
    caf::actor strong;
    {
      std::lock_guard<std::mutex> lock(mu);
      strong = caf::actor_cast<caf::actor>(target);
    }
    if (strong) caf::anon_send(strong, label_atom::value, label.request_id, label.row, label.label, false);
  }
};

void SendSummary(replica_actor::stateful_pointer<ReplicaState> self, int64_t now) {
  auto& st = self->state;
  wire::DriftSummary summary = st.runtime->drift().Drain(st.options.id, st.runtime->served_version(), now);
  // (epoch, checksum) only when they belong to the version Drain reported (an apply may be
  // half-way: then 0, "unknown", and the coordinator waits for the next summary).
  const ReplicaRuntime::ServedIdentity served = st.runtime->served_identity();
  if (served.version == summary.served_version) {
    summary.served_epoch = served.epoch;
    summary.served_checksum = served.checksum;
  }
  summary.highest_epoch = st.runtime->highest_epoch();
  st.last_summary_ms = now;
  // This window's own drift reading, for the replica's metrics.
  const FidiCalibration& fidi = st.options.bundle->fidi;
  double max_z = 0;
  for (size_t i = 0; i < fidi.monitored.size(); ++i) {
    const size_t c = fidi.monitored[i];
    if (c < summary.features.size() && summary.features[c].count > 0) {
      max_z = std::max(max_z, std::abs(summary.features[c].mean - fidi.mean[i]) / fidi.stddev[i]);
    }
  }
  const ReplicaMetrics& m = st.runtime->metrics();
  m.drift_z->Set(max_z);
  uint64_t conflicts = 0;
  for (uint64_t c : summary.rule_conflicts) conflicts += c;
  m.conflicts->Increment(static_cast<double>(conflicts));
  const double dropped = static_cast<double>(st.runtime->bus_stats().dropped_total());
  if (dropped > m.dropped_updates->Value()) m.dropped_updates->Increment(dropped - m.dropped_updates->Value());
  if (!st.coordinator) {
    ++st.summaries_dropped;
    m.summaries_dropped->Increment();
    return;
  }
  self->send(st.coordinator, summary_atom::value, EncodePayload(summary));
  ++st.summaries_sent;
  m.summaries_sent->Increment();
}

// Joins (or re-joins) the coordinator: learns its epoch.
void SayHello(replica_actor::stateful_pointer<ReplicaState> self) {
  auto& st = self->state;
  st.last_hello_ms = NowMs();
  self->request(st.coordinator, std::chrono::seconds(5), hello_atom::value, st.options.id, st.runtime->endpoint(),
                caf::actor_cast<caf::actor>(self))
      .then(
          [=](uint64_t epoch) {
            const bool first = self->state.epoch == 0;
            const uint64_t before = self->state.epoch;
            self->state.epoch = epoch;
            if (self->state.options.log && (first || before != epoch)) {
              self->state.options.log("coordinator_joined", {{"epoch", epoch}, {"fenced", self->state.fenced()}});
            }
          },
          [=](caf::error& err) {
            if (self->state.options.log) self->state.options.log("hello_failed", {{"error", self->system().render(err)}});
          });
}

}  // namespace

bool ReplicaState::fenced() const { return coordinator && epoch != 0 && runtime && epoch < runtime->highest_epoch(); }

replica_actor::behavior_type ReplicaBehavior(replica_actor::stateful_pointer<ReplicaState> self, ReplicaOptions options,
                                             std::shared_ptr<ReplicaRuntime> runtime) {
  auto& st = self->state;
  st.options = std::move(options);
  st.runtime = std::move(runtime);
  st.last_summary_ms = NowMs();

  self->set_down_handler([=](caf::down_msg& msg) {
    auto& s = self->state;
    if (msg.source == s.coordinator.address()) {
      s.coordinator = nullptr;
      if (s.options.log) s.options.log("coordinator_lost", {{"reconnect_ms", s.options.coordinator.reconnect_ms}});
      // Embedded mode: a local coordinator that is gone does not come back (shutdown).
      if (!s.options.coordinator.local) {
        SpawnConnector(self->system(), s.options.coordinator, caf::actor_cast<caf::actor>(self));
      }
    }
  });
  // Stop serving before the state goes: in-flight requests are answered first.
  self->attach_functor([rt = st.runtime] { rt->Stop(); });
  SpawnConnector(self->system(), st.options.coordinator, caf::actor_cast<caf::actor>(self));
  self->send(self, tick_atom::value);

  return {
      [=](label_atom, uint64_t request_id, uint32_t row, uint8_t label, bool relayed) {
        auto& s = self->state;
        const auto result = s.runtime->drift().Label(request_id, row, label);
        if (result == DriftAccumulator::LabelResult::kJoined) {
          s.runtime->metrics().labels_joined->Increment();
        } else if (!relayed && result == DriftAccumulator::LabelResult::kUnknownRequest && s.coordinator) {
          self->send(s.coordinator, label_atom::value, s.options.id, request_id, row, label);
        }
      },
      [=](status_atom) -> std::string {
        auto& s = self->state;
        const auto server = s.runtime->server_stats();
        const auto totals = s.runtime->drift().totals();
        nlohmann::json j = {{"id", s.options.id},
                            {"endpoint", s.runtime->endpoint()},
                            {"ready", s.runtime->ready() && !s.fenced()},
                            {"version", s.runtime->served_version()},
                            {"epoch", s.runtime->served_identity().epoch},
                            {"checksum", s.runtime->served_identity().checksum},
                            {"coordinator_epoch", s.epoch},
                            {"highest_epoch", s.runtime->highest_epoch()},
                            {"fenced", s.fenced()},
                            {"coordinator", static_cast<bool>(s.coordinator)},
                            {"bus", s.runtime->bus_state()},
                            {"rows_scored", server.rows_scored},
                            {"requests", server.score_requests},
                            {"errors_not_ready", server.errors_with(wire::ErrorCode::kNotReady)},
                            {"labels_joined", totals.labels_joined},
                            {"summaries_sent", s.summaries_sent},
                            {"summaries_dropped", s.summaries_dropped}};
        return j.dump();
      },
      [=](connect_atom, caf::actor coordinator) {
        auto& s = self->state;
        s.coordinator = caf::actor_cast<coordinator_actor>(coordinator);
        self->monitor(s.coordinator);
        s.epoch = 0;
        SayHello(self);
      },
      [=](tick_atom) {
        auto& s = self->state;
        const int64_t now = NowMs();
        if (s.runtime->drift().pending_rows() >= static_cast<uint64_t>(std::max(1, s.options.summary_rows)) ||
            now - s.last_summary_ms >= s.options.summary_interval_ms) {
          SendSummary(self, now);
        }
        if (s.fenced() && now - s.last_hello_ms >= 1000) SayHello(self);
        // Not joined yet (the hello failed or was refused: e.g. our previous life's link is not
        // down yet at the coordinator): ask again.
        if (s.coordinator && s.epoch == 0 && now - s.last_hello_ms >= std::max(100, s.options.coordinator.reconnect_ms)) {
          SayHello(self);
        }
        s.runtime->metrics().fenced->Set(s.fenced() ? 1 : 0);
        const int tick = std::max(5, std::min(50, s.options.summary_interval_ms / 4));
        self->delayed_send(self, std::chrono::milliseconds(tick), tick_atom::value);
      },
  };
}

Result<replica_actor> SpawnReplica(caf::actor_system& system, const ReplicaOptions& options) {
  auto forwarder = std::make_shared<LabelForwarder>();
  auto runtime = ReplicaRuntime::Start(options, [forwarder](const wire::LabelFeedback& l) { (*forwarder)(l); });
  if (!runtime.ok()) return runtime.status();
  std::shared_ptr<ReplicaRuntime> rt = std::move(*runtime);
  replica_actor actor = system.spawn(ReplicaBehavior, options, rt);
  {
    std::lock_guard<std::mutex> lock(forwarder->mu);
    forwarder->target = actor.address();
  }
  if (options.log) options.log("replica_started", {{"endpoint", rt->endpoint()}});
  return actor;
}

}  // namespace reflex::actors
