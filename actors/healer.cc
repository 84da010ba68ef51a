#include "actors/healer.h"

#include <chrono>

#include "actors/connector.h"
#include "actors/wire_payload.h"
#include "model/healer.h"

namespace reflex::actors {
namespace {

wire::HealResult Failure(uint64_t job_id, const std::string& healer_id, const std::string& why) {
  wire::HealResult r;
  r.job_id = job_id;
  r.healer_id = healer_id;
  r.accepted = false;
  r.reason = "error: " + why;
  return r;
}

void StartNext(healer_actor::stateful_pointer<HealerState> self) {
  auto& st = self->state;
  while (!st.queued.empty() && st.running.size() < static_cast<size_t>(std::max(1, st.options.max_concurrent))) {
    auto [id, pending] = std::move(st.queued.front());
    st.queued.pop_front();
    const std::string job = pending.job_bytes;
    st.running.emplace(id, std::move(pending));
    auto bundle = st.options.bundle;
    const std::string healer_id = st.options.id;
    const bool cuda = st.use_cuda;
    auto me = caf::actor_cast<caf::actor>(self);
    self->spawn<caf::detached>([me, id, job, bundle, healer_id, cuda](caf::blocking_actor* worker) {
      worker->send(me, healdone_atom::value, id, RunHealJob(*bundle, healer_id, cuda, job));
    });
  }
  st.metrics.load->Set(static_cast<double>(st.running.size()));
}

}  // namespace

Result<bool> ResolveHealerDevice(const std::string& device) {
  if (device == "cpu") return false;
  if (device == "auto") return CudaAvailable();
  if (device == "cuda") {
    if (!CudaAvailable()) return Status::FailedPrecondition("healer device 'cuda': LibTorch sees no CUDA device here");
    return true;
  }
  return Status::InvalidArgument("healer device '" + device + "' is not one of auto, cpu, cuda");
}

std::string RunHealJob(const ModelBundle& bundle, const std::string& healer_id, bool use_cuda,
                       const std::string& job_bytes) {
  auto decoded = DecodePayload<wire::HealJob>(job_bytes, "heal job");
  if (!decoded.ok()) return EncodePayload(Failure(0, healer_id, decoded.status().message()));
  const wire::HealJob& in = *decoded;
  try {
    HealJob job;
    job.base = in.base;
    job.rows = in.rows;
    job.n_rows = in.cols ? in.rows.size() / in.cols : 0;
    job.labels = in.labels;
    // Binary rules for a binary model, class rules for a K-class one (Heal runs the multi-class
    // heal, multiclass_healer.cc, for a K-class bundle); a mismatched rule set is not used.
    const bool multiclass = bundle.model->outputs_per_row() >= 2;
    if (bundle.rules && !bundle.rules->empty() && bundle.rules->multiclass() == multiclass) job.rules = bundle.rules.get();
    for (const auto& [key, value] : in.policy) {
      Status s = job.policy.Set(key, value);
      if (!s.ok()) return EncodePayload(Failure(in.job_id, healer_id, "policy: " + s.message()));
    }
    job.new_version = in.new_version;
    job.epoch = in.epoch;
    job.seed = in.job_id;
    job.use_cuda = use_cuda;
    if (in.cols != bundle.model->input_dims()) {
      return EncodePayload(Failure(in.job_id, healer_id,
                                   "rows have " + std::to_string(in.cols) + " columns, the model takes " +
                                       std::to_string(bundle.model->input_dims())));
    }
    auto outcome = Heal(*bundle.model, *bundle.calibration, job);
    if (!outcome.ok()) return EncodePayload(Failure(in.job_id, healer_id, outcome.status().message()));
    wire::HealResult r;
    r.job_id = in.job_id;
    r.healer_id = healer_id;
    r.accepted = outcome->candidate.has_value();
    r.reason = outcome->report.reason;
    r.candidate = outcome->candidate;
    r.metrics = outcome->report.Metrics();
    r.metrics["cuda"] = outcome->report.device == "cpu" ? 0.0 : 1.0;
    return EncodePayload(r);
  } catch (const std::exception& e) {
    return EncodePayload(Failure(in.job_id, healer_id, std::string("exception: ") + e.what()));
  }
}

healer_actor::behavior_type HealerBehavior(healer_actor::stateful_pointer<HealerState> self, HealerOptions options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.registry = RegistryOrPrivate(st.options.metrics);
  st.metrics = MakeHealerMetrics(*st.registry, st.options.id);
  auto device = ResolveHealerDevice(st.options.device);
  st.use_cuda = device.ok() && *device;
  st.device = st.use_cuda ? "cuda:0" : "cpu";

  self->set_down_handler([=](caf::down_msg& msg) {
    if (msg.source == self->state.coordinator.address()) {
      self->state.coordinator = nullptr;
      if (self->state.options.connected) self->state.options.connected->store(false);
      // Embedded mode: a local coordinator that is gone does not come back (shutdown).
      if (!self->state.options.coordinator.local) {
        SpawnConnector(self->system(), self->state.options.coordinator, caf::actor_cast<caf::actor>(self));
      }
    }
  });
  SpawnConnector(self->system(), st.options.coordinator, caf::actor_cast<caf::actor>(self));
  self->send(self, tick_atom::value);

  return {
      [=](heal_atom, std::string& job) -> caf::result<std::string> {
        auto& s = self->state;
        s.metrics.jobs->Increment();
        auto promise = self->make_response_promise<std::string>();
        s.queued.emplace_back(++s.next_worker, HealerState::Pending{std::move(job), promise});
        StartNext(self);
        return promise;
      },
      [=](healdone_atom, uint64_t worker, std::string& result) {
        auto& s = self->state;
        auto it = s.running.find(worker);
        if (it == s.running.end()) return;
        auto decoded = DecodePayload<wire::HealResult>(result, "heal result");
        if (decoded.ok()) {
          if (decoded->accepted) s.metrics.accepted->Increment();
          else if (decoded->reason.rfind("error:", 0) == 0) s.metrics.failed->Increment();
          else s.metrics.rejected->Increment();
          auto ms = decoded->metrics.find("duration_ms");
          if (ms != decoded->metrics.end()) s.metrics.heal_duration->Observe(ms->second / 1000.0);
        }
        it->second.promise.deliver(std::move(result));
        s.running.erase(it);
        StartNext(self);
      },
      [=](connect_atom, caf::actor coordinator) {
        auto& s = self->state;
        s.coordinator = caf::actor_cast<coordinator_actor>(coordinator);
        self->monitor(s.coordinator);
        if (s.options.connected) s.options.connected->store(true);
        self->send(s.coordinator, healer_atom::value, s.options.id, s.device,
                   static_cast<uint32_t>(std::max(1, s.options.max_concurrent)), caf::actor_cast<caf::actor>(self));
      },
      [=](tick_atom) {
        auto& s = self->state;
        if (s.coordinator) {
          self->send(s.coordinator, beat_atom::value, s.options.id,
                     static_cast<uint32_t>(s.running.size() + s.queued.size()));
        }
        self->delayed_send(self, std::chrono::milliseconds(std::max(10, s.options.heartbeat_ms)), tick_atom::value);
      },
  };
}

}  // namespace reflex::actors
