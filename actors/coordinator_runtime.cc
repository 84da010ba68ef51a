#include "actors/coordinator_runtime.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"

namespace reflex::actors {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<CoordinatorRuntime>> CoordinatorRuntime::Start(const CoordinatorOptions& options,
                                                                      std::vector<std::string>* load_problems) {
  if (!options.bundle || !options.bundle->model) return Status::InvalidArgument("coordinator: no model bundle");
  std::unique_ptr<CoordinatorRuntime> rt(new CoordinatorRuntime());
  rt->options_ = options;
  if (options.registry_dir.empty()) {
    rt->registry_ = VersionRegistry::InMemory();
  } else {
    auto reg = VersionRegistry::Open(options.registry_dir, load_problems, options.registry_repair);
    if (!reg.ok()) return reg.status().WithContext("opening the registry");
    rt->registry_ = std::move(*reg);
    // A repaired ACTIVE is written back now, so the next start needs no repair.
    if (!rt->registry_->empty()) REFLEX_RETURN_IF_ERROR(rt->registry_->SetActive(rt->registry_->active()));
  }
  auto epoch = rt->registry_->TakeNextEpoch();
  if (!epoch.ok()) return epoch.status().WithContext("taking the next epoch");
  rt->epoch_ = *epoch;

  const HealableModel& model = *options.bundle->model;
  if (rt->registry_->empty()) {
    VersionRecord v0;
    v0.adapter = model.initial_adapter();
    v0.adapter.epoch = rt->epoch_;
    v0.adapter.Seal();
    v0.reason = "initial";
    v0.created_unix_ms = NowMs();
    REFLEX_RETURN_IF_ERROR(rt->registry_->Put(v0));
    REFLEX_RETURN_IF_ERROR(rt->registry_->SetActive(0));
  }
  const VersionRecord* active = rt->registry_->Get(rt->registry_->active());
  if (!active) return Status::Corruption("registry: the active version " + std::to_string(rt->registry_->active()) + " is missing");
  if (!(active->adapter.dims == model.adapter_dims())) {
    return Status::FailedPrecondition("registry " + options.registry_dir + ": its versions do not fit this bundle's model");
  }

  rt->zmq_ = options.zmq_context ? options.zmq_context : std::make_shared<zmq::context_t>(1);
  transport::WeightPublisherOptions po;
  po.sender_id = options.id;
  po.epoch = rt->epoch_;
  po.publish_endpoint = options.weights_publish;
  po.snapshot_endpoint = options.weights_snapshot;
  po.heartbeat_interval = std::chrono::milliseconds(std::max(10, options.bus_heartbeat_ms));
  if (options.security.curve) {
    po.curve = transport::CurveServerConfig{{options.security.own.public_key, options.security.own.secret_key}};
    if (!options.security.bus_clients.empty()) {
      auto zap = transport::ZapAuthenticator::Start(*rt->zmq_, options.security.bus_clients);
      if (!zap.ok()) return zap.status().WithContext("weight bus allow-list");
      rt->zap_ = std::move(*zap);
    }
  }
  if (options.log) {
    EventLog log = options.log;
    po.log = [log](const std::string& line) { log("weight_bus", {{"detail", line}}); };
  }
  auto publisher = transport::WeightPublisher::Start(*rt->zmq_, std::move(po));
  if (!publisher.ok()) return publisher.status().WithContext("starting the weight bus");
  rt->publisher_ = std::move(*publisher);
  AdapterVersion current = active->adapter;
  current.epoch = rt->epoch_;
  current.Seal();
  auto sent = rt->publisher_->Publish(current);
  if (!sent.ok()) return sent.status().WithContext("publishing the active version");
  rt->published_ = std::move(current);
  return rt;
}

Result<bool> CoordinatorRuntime::AdvanceEpochPast(uint64_t seen) {
  if (seen < epoch_) return false;
  auto next = registry_->TakeNextEpoch(seen);
  if (!next.ok()) return next.status();
  epoch_ = *next;
  AdapterVersion current = active().adapter;
  current.epoch = epoch_;
  current.Seal();
  auto sent = publisher_->Publish(current);
  if (!sent.ok()) return sent.status().WithContext("re-publishing the active version under epoch " + std::to_string(epoch_));
  published_ = std::move(current);
  return true;
}

CoordinatorRuntime::~CoordinatorRuntime() { Stop(); }

void CoordinatorRuntime::Stop() {
  if (publisher_) publisher_->Stop();
  if (zap_) zap_->Stop();
}

const VersionRecord& CoordinatorRuntime::active() const { return *registry_->Get(registry_->active()); }

Result<VersionRecord> CoordinatorRuntime::Publish(AdapterVersion adapter, const std::string& reason,
                                                  std::map<std::string, double> metrics) {
  VersionRecord record;
  adapter.version = registry_->LatestVersion() + 1;
  adapter.parent = registry_->active();
  adapter.epoch = epoch_;
  adapter.Seal();
  REFLEX_RETURN_IF_ERROR(adapter.Verify());
  record.adapter = std::move(adapter);
  record.reason = reason;
  record.created_unix_ms = NowMs();
  record.metrics = std::move(metrics);
  REFLEX_RETURN_IF_ERROR(registry_->Put(record));
  REFLEX_RETURN_IF_ERROR(registry_->SetActive(record.adapter.version));
  auto sent = publisher_->Publish(record.adapter);
  if (!sent.ok()) return sent.status().WithContext("broadcasting version " + std::to_string(record.adapter.version));
  published_ = record.adapter;
  return record;
}

Admission AdmitCandidate(const HealableModel& model, const AdapterVersion& candidate, const AdapterVersion& parent,
                         const std::vector<float>& rows, size_t cols, const HealPolicy& policy,
                         double reported_positive_rate, const std::optional<RateEvidence>& evidence) {
  Admission a;
  Status intact = candidate.Verify();
  if (!intact.ok()) {
    a.reason = "candidate damaged: " + intact.message();
    return a;
  }
  if (!(candidate.dims == parent.dims)) {
    a.reason = "candidate dims differ from its parent's";
    return a;
  }
  const size_t n = cols ? rows.size() / cols : 0;
  if (n == 0) {
    a.reason = "no rows to check the candidate on";
    return a;
  }
  auto rate = [&](const AdapterVersion& v) -> Result<double> {
    auto probs = model.Score(v, BatchView{rows.data(), n, cols});
    if (!probs.ok()) return probs.status();
    size_t positives = 0;
    for (float p : *probs) positives += p >= 0.5f;
    return static_cast<double>(positives) / static_cast<double>(n);
  };
  Result<double> measured = rate(candidate);
  if (!measured.ok()) {
    a.reason = "scoring the candidate failed: " + measured.status().message();
    return a;
  }
  a.positive_rate = *measured;
  char buf[200];
  if (std::abs(a.positive_rate - reported_positive_rate) > 0.02) {
    std::snprintf(buf, sizeof buf, "measured positive rate %.3f differs from the healer's %.3f", a.positive_rate,
                  reported_positive_rate);
    a.reason = buf;
    return a;
  }
  if (evidence) {
    GateInputs gate;
    gate.labelled = evidence->labelled_prior.has_value() && evidence->labelled_rows > 0;
    gate.evidence = *evidence;
    gate.evidence.measured_rows = n;
    gate.candidate_positive_rate = a.positive_rate;
    Result<double> parent_rate = rate(parent);
    if (!parent_rate.ok()) {
      a.reason = "scoring the parent failed: " + parent_rate.status().message();
      return a;
    }
    gate.current_positive_rate = *parent_rate;
    GateVerdict verdict = ValidateCandidate(gate, policy);
    if (!verdict.accept) {
      a.reason = verdict.reason;
      return a;
    }
  }
  std::snprintf(buf, sizeof buf, "admitted: positive rate %.3f on %zu rows", a.positive_rate, n);
  a.reason = buf;
  if (evidence) {
    const RateBounds b = PositiveRateBounds(RateEvidence{*evidence}, policy);
    std::snprintf(buf, sizeof buf, " (bounds [%.3f, %.3f] from the %s %.3f)", b.lo, b.hi, b.basis.c_str(), b.expected);
    a.reason += buf;
  }
  a.admitted = true;
  return a;
}

RateEvidence AdmissionEvidence(double clean_rate, const std::map<std::string, double>& metrics) {
  RateEvidence e;
  e.clean_rate = clean_rate;
  auto get = [&](const char* key) -> std::optional<double> {
    auto it = metrics.find(key);
    if (it == metrics.end()) return std::nullopt;
    return it->second;
  };
  if (get("label_shift").value_or(0) > 0.5 && get("estimated_prior")) e.estimated_prior = get("estimated_prior");
  const double labelled_rows = get("labelled_rows").value_or(0);
  if (labelled_rows > 0 && get("labelled_prior")) {
    e.labelled_prior = get("labelled_prior");
    e.labelled_rows = static_cast<size_t>(labelled_rows);
  }
  return e;
}

}  // namespace reflex::actors
