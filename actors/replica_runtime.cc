#include "actors/replica_runtime.h"

#include <algorithm>
#include <functional>

namespace reflex::actors {

Result<std::unique_ptr<ReplicaRuntime>> ReplicaRuntime::Start(const ReplicaOptions& options,
                                                              UnmatchedLabel unmatched) {
  if (!options.bundle || !options.bundle->model) return Status::InvalidArgument("replica: no model bundle");
  std::unique_ptr<ReplicaRuntime> rt(new ReplicaRuntime());
  rt->options_ = options;
  rt->registry_ = RegistryOrPrivate(options.metrics);
  rt->metrics_ = MakeReplicaMetrics(*rt->registry_, options.id);
  rt->unmatched_ = std::move(unmatched);
  const ModelBundle& bundle = *options.bundle;
  auto engine = ServingEngine::Create(bundle.model, bundle.model->initial_adapter());
  if (!engine.ok()) return engine.status().WithContext("replica " + options.id);
  rt->engine_ = std::shared_ptr<ServingEngine>(std::move(*engine));
  // Version 0 in shadow, for health against the deployed model and (binary models) the prior
  // estimate: outputs_per_row() probabilities per row.
  auto v0 = bundle.model->Compile(bundle.model->initial_adapter());
  if (!v0.ok()) return v0.status().WithContext("replica " + options.id + " version 0");
  std::shared_ptr<const CompiledAdapter> compiled = *v0;
  std::shared_ptr<const HealableModel> model = bundle.model;
  const size_t cols = model->input_dims(), outputs = model->outputs_per_row();
  DriftAccumulator::AnchorScorer anchor = [model, compiled, cols, outputs](const float* rows, size_t n, float* probs) {
    if (!model->Score(*compiled, {rows, n, cols}, probs).ok()) {
      std::fill(probs, probs + n * outputs, outputs == 1 ? 0.5f : 1.0f / static_cast<float>(outputs));
    }
  };
  rt->drift_ = std::make_shared<DriftAccumulator>(bundle.model->input_dims(), bundle.rules,
                                                  static_cast<size_t>(std::max(0, options.sample_rows)),
                                                  static_cast<size_t>(std::max(0, options.label_cache_rows)),
                                                  std::hash<std::string>{}(options.id), std::move(anchor), outputs);
  rt->drift_->SetFeatureClip(FidiClipBounds(bundle.fidi, bundle.model->input_dims()));  // robust FIDI
  rt->scorer_ = std::make_shared<EngineScorer>(rt->engine_, rt->metrics_);

  rt->zmq_ = options.zmq_context ? options.zmq_context : std::make_shared<zmq::context_t>(1);
  transport::WeightSubscriberOptions sub;
  sub.subscriber_id = options.id;
  sub.publish_endpoint = options.weights_publish;
  sub.snapshot_endpoint = options.weights_snapshot;
  sub.heartbeat_interval = std::chrono::milliseconds(std::max(10, options.bus_heartbeat_ms));
  sub.expected_dims = bundle.model->adapter_dims();
  if (options.security.curve) {
    transport::CurveClientConfig curve;
    curve.client = {options.security.own.public_key, options.security.own.secret_key};
    curve.server_public = options.security.coordinator_public;
    sub.curve = std::move(curve);
  }
  ReplicaRuntime* raw = rt.get();
  sub.on_apply = [raw](const AdapterVersion& v) { raw->Apply(v); };
  if (options.log) {
    EventLog log = options.log;
    sub.log = [log](const std::string& line) { log("weight_bus", {{"detail", line}}); };
  }
  auto subscriber = transport::WeightSubscriber::Start(*rt->zmq_, std::move(sub));
  if (!subscriber.ok()) return subscriber.status().WithContext("replica " + options.id + " weight bus");
  rt->subscriber_ = std::move(*subscriber);

  transport::ScoringServerOptions so;
  so.endpoint = options.scoring_endpoint;
  so.workers = static_cast<size_t>(std::max(1, options.scoring_workers));
  so.batching = options.scoring_batching;
  if (options.security.curve) {
    so.curve = transport::CurveServerConfig{{options.security.own.public_key, options.security.own.secret_key}};
    so.curve_allowed_clients = options.security.scoring_clients;
  }
  std::shared_ptr<DriftAccumulator> drift = rt->drift_;
  // Every scored request, binary (one P(positive) per row) or K-class (K probabilities per row),
  // feeds the drift statistics and the label cache; the width always equals the model's.
  so.scored_sink = [drift](const wire::ScoreRequest& req, const float* outputs, uint32_t outputs_per_row,
                           uint64_t version) {
    if (outputs_per_row == drift->outputs_per_row()) {
      drift->Record(req.request_id, req.rows.data(), req.n_rows(), outputs, version);
    }
  };
  so.label_sink = [raw](const wire::LabelFeedback& label) {
    return raw->JoinLabel(label);
  };
  auto server = transport::ScoringServer::Start(rt->scorer_, std::move(so));
  if (!server.ok()) return server.status().WithContext("replica " + options.id + " scoring endpoint");
  rt->server_ = std::move(*server);
  rt->endpoint_ = rt->server_->endpoint();
  return rt;
}

ReplicaRuntime::~ReplicaRuntime() { Stop(); }

transport::LabelOutcome ReplicaRuntime::JoinLabel(const wire::LabelFeedback& label) {
  using transport::LabelOutcome;
  switch (drift_->Label(label.request_id, label.row, label.label)) {
    case DriftAccumulator::LabelResult::kJoined:
      metrics_.labels_joined->Increment();
      return LabelOutcome::kJoined;
    case DriftAccumulator::LabelResult::kUnknownRequest:
      if (!unmatched_) return LabelOutcome::kUnknownRequest;
      metrics_.labels_forwarded->Increment();
      unmatched_(label);
      return LabelOutcome::kForwarded;
    case DriftAccumulator::LabelResult::kBadRow: return LabelOutcome::kRowOutOfRange;
    case DriftAccumulator::LabelResult::kDuplicate: return LabelOutcome::kDuplicate;
    case DriftAccumulator::LabelResult::kTooLate: return LabelOutcome::kTooLate;
    case DriftAccumulator::LabelResult::kBadLabel: return LabelOutcome::kInvalid;
  }
  return LabelOutcome::kUnknownRequest;
}

void ReplicaRuntime::Stop() {
  if (server_) server_->Stop();          // answers everything accepted
  if (subscriber_) subscriber_->Stop();
}

ReplicaRuntime::ServedIdentity ReplicaRuntime::served_identity() const {
  std::lock_guard<std::mutex> lock(served_mutex_);
  return served_;
}

void ReplicaRuntime::Apply(const AdapterVersion& version) {
  auto current = engine_->Current();
  const AdapterVersion& served = current->adapter;
  auto remember = [&] {
    std::lock_guard<std::mutex> lock(served_mutex_);
    served_ = {version.version, version.epoch, version.checksum};
  };
  if (version.version == served.version && version.dims == served.dims && version.weights == served.weights) {
    remember();
    scorer_->SetReady(true);  // the version we serve, confirmed (possibly under a newer epoch)
    metrics_.ready->Set(1);
    metrics_.served_version->Set(static_cast<double>(served.version));
    return;
  }
  Status s = engine_->Publish(version);
  if (!s.ok()) {
    if (options_.log) {
      options_.log("version_refused", {{"version", version.version}, {"epoch", version.epoch}, {"reason", s.message()}});
    }
    return;
  }
  remember();
  scorer_->SetReady(true);
  metrics_.ready->Set(1);
  metrics_.served_version->Set(static_cast<double>(version.version));
  if (options_.log) {
    options_.log("version_applied", {{"version", version.version}, {"parent", version.parent}, {"epoch", version.epoch}});
  }
}

}  // namespace reflex::actors
