#include "actors/coordinator.h"

#include <chrono>
#include <cstdio>
#include <tuple>

#include "actors/multiclass_admission.h"
#include "actors/wire_payload.h"
#include "core/label_shift.h"

namespace reflex::actors {
namespace {

constexpr size_t kMaxEvents = 200;
// The cluster has no batches: the policy's batch counts (drift_gone_batches, cooldown_batches)
// are read as this many rows each, the batch size of reflex-sim's experiments.
constexpr uint64_t kNominalBatchRows = 100;
constexpr int kTickMs = 200;

std::string Fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void UpdateGauges(CoordinatorSelf self) {
  auto& st = self->state;
  size_t alive = 0;
  for (const auto& [id, h] : st.healers) alive += h.alive;
  st.metrics.healers_alive->Set(static_cast<double>(alive));
  st.metrics.replicas->Set(static_cast<double>(st.replicas.size()));
  size_t in_step = 0, fenced = 0;
  for (const auto& [id, r] : st.replicas) {
    in_step += r.alive && InStep(r, st.runtime->published());
    fenced += Fenced(r, st.runtime->epoch());
  }
  st.metrics.replicas_in_step->Set(static_cast<double>(in_step));
  st.metrics.replicas_fenced->Set(static_cast<double>(fenced));
  st.metrics.epoch->Set(static_cast<double>(st.runtime->epoch()));
  st.metrics.current_version->Set(static_cast<double>(st.runtime->registry().active()));
}

bool IsMulticlass(const ModelBundle& bundle) { return bundle.model->outputs_per_row() >= 2; }

// Version 0 on the bundle's clean labelled sample: its accuracy (the reference for label-driven
// drift) and (binary models) the EM prior estimate of its posteriors (the reference for the
// stream's estimate). A K-class model's accuracy counts argmax hits.
struct CleanReference {
  double accuracy = 1.0;
  std::optional<double> prior_estimate;
};
CleanReference CleanReferenceOf(const ModelBundle& bundle) {
  const HealCalibration& cal = *bundle.calibration;
  const size_t n = cal.clean_sample_rows, cols = bundle.model->input_dims(), k = bundle.model->outputs_per_row();
  if (n == 0 || cal.clean_sample.size() != n * cols || cal.clean_sample_labels.size() != n) return {};
  auto v0 = bundle.model->Compile(bundle.model->initial_adapter());
  std::vector<float> p(n * k);
  if (!v0.ok() || !bundle.model->Score(**v0, {cal.clean_sample.data(), n, cols}, p.data()).ok()) return {};
  if (k >= 2) {
    size_t right = 0;
    for (size_t i = 0; i < n; ++i) {
      const float* row = p.data() + i * k;
      right += static_cast<size_t>(std::max_element(row, row + k) - row) == cal.clean_sample_labels[i];
    }
    return {static_cast<double>(right) / static_cast<double>(n), std::nullopt};
  }
  Confusion c;
  for (size_t i = 0; i < n; ++i) c.Add(p[i] >= 0.5f, cal.clean_sample_labels[i] == 1);
  return {c.accuracy(), EstimateStreamPrior(cal.clean, p.data(), n).prior};
}

// The controller's configuration follows the operator's policy and pin.
void SyncController(CoordinatorSelf self) {
  auto& st = self->state;
  control::ControllerConfig c = control::ControllerConfig::FromPolicy(
      st.policy, st.options.bundle->calibration->clean.train_prior, st.clean_accuracy, IsMulticlass(*st.options.bundle),
      kNominalBatchRows);
  c.cooldown = st.policy.cooldown_ms;
  c.clean_prior_estimate = st.clean_prior_estimate;
  st.controller.SetConfig(c);
  st.controller.SetPinned(st.pinned.has_value());
}

// Feeds one merged summary to the heal controller (drift statistics, then the labels it carries).
void ObserveSummary(CoordinatorSelf self, const wire::DriftSummary& s) {
  auto& st = self->state;
  const DriftReading r = st.drift->Reading();
  st.metrics.drift_z->Set(r.max_z);
  st.metrics.conflict_rate->Set(r.conflict_rate);
  for (float p : s.sample_anchor_probs) st.anchor_probs.push_back(p);
  while (st.anchor_probs.size() > static_cast<size_t>(std::max(1, st.policy.window_rows))) st.anchor_probs.pop_front();
  control::DriftObservation o;
  o.now = CoordinatorNowMs();
  o.rows = s.rows_scored;
  o.fidi_z = r.rows >= static_cast<uint64_t>(st.policy.min_rows) ? r.max_z : 0.0;
  // This summary's rows alone: the drift may be over when the newest rows read clean while the
  // merged window still lags.
  size_t newest_feature = 0;
  o.fidi_z_now = MaxFidiZ(st.options.bundle->fidi, s.features, &newest_feature);
  if (st.drift->rule_count() > 0) o.conflict_rate = r.conflict_rate;
  if (st.anchor_probs.size() >= static_cast<size_t>(st.policy.min_rows)) {
    std::vector<float> probs(st.anchor_probs.begin(), st.anchor_probs.end());
    const PriorEstimate prior = EstimateStreamPrior(st.options.bundle->calibration->clean, probs.data(), probs.size());
    o.prior_estimate = prior.prior;
    o.prior_estimate_se = prior.standard_error;
  }
  const bool was_drifting = st.controller.drifting();
  st.controller.ObserveDrift(o);
  if (!was_drifting && st.controller.drifting()) {
    // Onset: the rows sampled before this summary describe the world before the drift; heals
    // learn from this summary's rows on.
    st.drift->ClearRows();
    nlohmann::json fields = {{"by", st.controller.drift_reason()}, {"max_z", r.max_z},
                             {"feature", st.options.bundle->model->spec().feature_names[r.max_feature]},
                             {"conflict_rate", r.conflict_rate}, {"rows", r.rows}};
    if (IsMulticlass(*st.options.bundle)) {
      // K-class: how far the predicted classes (served, and version 0 on the sample) sit from clean.
      const std::vector<double>& clean = st.options.bundle->calibration->class_rate;
      fields["class_tv"] = ClassCountsTv(r.class_counts, clean);
      fields["anchor_class_tv"] = ClassCountsTv(r.anchor_class_counts, clean);
    }
    RecordEvent(self, "drift_detected", fields);
  }
  // A K-class summary's label_cells count right/wrong of the served version and version 0 on
  // the same labelled rows (PairedOutcome::AddCorrect): accuracy-only health.
  if (s.label_cells.size() == 8) {
    control::LabelledObservation l;
    l.served_version = s.served_version;
    l.outcome = control::PairedOutcome::FromCells(s.label_cells);
    st.controller.ObserveLabels(l);
  }
}

// Carries out the controller's decision for now.
void Act(CoordinatorSelf self) {
  auto& st = self->state;
  SyncController(self);
  const control::Decision d = st.controller.Decide(CoordinatorNowMs());
  switch (d.action) {
    case control::Action::kNone:
      if (!d.reason.empty()) RecordEvent(self, st.controller.drifting() ? "health_note" : "drift_gone", {{"reason", d.reason}});
      return;
    case control::Action::kHeal: {
      if (st.heal) return;
      const DriftReading r = st.drift->Reading();
      const std::string trigger = d.reason + " feature=" + st.options.bundle->model->spec().feature_names[r.max_feature] +
                                  " rows=" + std::to_string(r.rows);
      Status s = StartHeal(self, trigger);
      if (!s.ok()) {
        st.controller.HealFinished(std::nullopt);
        RecordEvent(self, "heal_not_started", {{"trigger", trigger}, {"why", s.message()}});
      }
      return;
    }
    case control::Action::kRollback:
    case control::Action::kReturnToAnchor: {
      auto record = PublishWeightsOf(self, d.target, "automatic rollback to v" + std::to_string(d.target) + ": " + d.reason,
                                     control::Origin::kController);
      if (!record.ok()) RecordEvent(self, "rollback_failed", {{"target", d.target}, {"error", record.status().message()}});
      return;
    }
  }
}

void Dispatch(CoordinatorSelf self, bool wait_if_none = false);

// A heal waiting for a healer (Dispatch with wait_if_none) goes out when one joins or is back.
void RetryWaitingHeal(CoordinatorSelf self) {
  auto& st = self->state;
  if (st.heal && !st.heal->candidate && st.heal->waiting_since_ms != 0) Dispatch(self);
}

const HealerInfo* PickHealer(CoordinatorSelf self) {
  auto& st = self->state;
  // A GPU healer first; among equals the least loaded (load / capacity), then the one with the
  // fewest jobs so far.
  const HealerInfo* best = nullptr;
  auto key = [](const HealerInfo& h) {
    return std::make_tuple(h.device == "cpu" ? 1 : 0,
                           static_cast<double>(h.load) / std::max<uint32_t>(1, h.max_concurrent), h.jobs);
  };
  for (const auto& [id, h] : st.healers) {
    if (!h.alive || !h.handle || st.heal->tried.count(id)) continue;
    if (!best || key(h) < key(*best)) best = &h;
  }
  return best;
}

void HandleResult(CoordinatorSelf self, uint64_t attempt, const std::string& bytes);

// Sends the heal in flight to the best healer not tried yet; gives up when none is left, unless
// `wait_if_none` (its healer's link went down: links flap, e.g. while another TLS peer dies), when
// the job waits for a healer to join or come back (RetryWaitingHeal; Tick gives up after
// heal_timeout_ms).
void Dispatch(CoordinatorSelf self, bool wait_if_none) {
  auto& st = self->state;
  if (!st.heal) return;
  const HealerInfo* h = PickHealer(self);
  if (!h && wait_if_none) {
    st.heal->healer.clear();
    if (st.heal->waiting_since_ms == 0) {
      st.heal->waiting_since_ms = CoordinatorNowMs();
      RecordEvent(self, "heal_waiting", {{"job", st.heal->job_id},
                                         {"why", "its healer's link went down and no other healer is free"}});
    }
    return;
  }
  if (!h) {
    RecordEvent(self, "heal_abandoned", {{"job", st.heal->job_id}, {"why", "no live healer left to try"},
                                         {"tried", st.heal->tried.size()}});
    st.metrics.rejections->Increment();
    st.heal.reset();
    SaveOperatorState(self);
    st.controller.HealFinished(std::nullopt);
    return;
  }
  HealInFlight& heal = *st.heal;
  if (!heal.healer.empty() || heal.waiting_since_ms != 0) st.metrics.reassignments->Increment();
  heal.waiting_since_ms = 0;
  heal.healer = h->id;
  heal.tried.insert(h->id);
  const uint64_t attempt = ++heal.attempt;
  st.healers[h->id].jobs++;
  st.healers[h->id].load++;
  RecordEvent(self, "heal_dispatched", {{"job", heal.job_id}, {"healer", h->id}, {"attempt", attempt}});
  auto healer = caf::actor_cast<healer_actor>(h->handle);
  self->request(healer, std::chrono::milliseconds(std::max(100, st.options.heal_timeout_ms)), heal_atom::value,
                heal.job_bytes)
      .then([=](std::string& result) { HandleResult(self, attempt, result); },
            [=](caf::error& err) {
              auto& s = self->state;
              if (!s.heal || s.heal->attempt != attempt || s.heal->candidate) return;  // stale
              if (s.heal->waiting_since_ms != 0) return;  // its link went down: already waiting
              RecordEvent(self, "heal_attempt_failed",
                          {{"job", s.heal->job_id}, {"healer", s.heal->healer}, {"error", self->system().render(err)}});
              // A timeout goes to another healer or gives up; a broken link may wait for one.
              Dispatch(self, err != caf::sec::request_timeout);
            });
}

void HandleResult(CoordinatorSelf self, uint64_t attempt, const std::string& bytes) {
  auto& st = self->state;
  if (!st.heal || st.heal->attempt != attempt || st.heal->candidate) return;
  auto it = st.healers.find(st.heal->healer);
  if (it != st.healers.end() && it->second.load > 0) it->second.load--;
  auto result = DecodePayload<wire::HealResult>(bytes, "heal result");
  if (!result.ok()) {
    RecordEvent(self, "heal_attempt_failed", {{"job", st.heal->job_id}, {"healer", st.heal->healer},
                                              {"error", result.status().message()}});
    Dispatch(self);
    return;
  }
  HealInFlight& heal = *st.heal;
  heal.metrics = result->metrics;
  // Marks the end of the heal's compute and the start of the coordinator's own check (timings).
  RecordEvent(self, "heal_result", {{"job", heal.job_id}, {"healer", result->healer_id}, {"accepted", result->accepted}});
  if (!result->accepted || !result->candidate) {
    st.metrics.rejections->Increment();
    RecordEvent(self, "heal_rejected", {{"job", heal.job_id}, {"healer", result->healer_id},
                                        {"stage", "healer"}, {"reason", result->reason}});
    st.heal.reset();
    SaveOperatorState(self);
    st.controller.HealFinished(std::nullopt);
    return;
  }
  const auto reported = result->metrics.find("positive_rate");
  heal.reported_positive_rate = reported == result->metrics.end() ? -1 : reported->second;
  heal.candidate = *result->candidate;
  // The coordinator's own check runs detached: it scores the candidate with LibTorch.
  auto bundle = st.options.bundle;
  const AdapterVersion candidate = *heal.candidate;
  const VersionRecord* parent_record = st.runtime->registry().Get(heal.parent);
  const AdapterVersion parent = parent_record ? parent_record->adapter : AdapterVersion{};
  const std::vector<float> rows = heal.rows;
  const HealPolicy policy = st.policy;
  const double reported_rate = heal.reported_positive_rate;
  const uint64_t job = heal.job_id;
  // The same gate as the healer's: bounds from the clean rate and the heal's evidence.
  const RateEvidence evidence = AdmissionEvidence(bundle->calibration->clean.clean_positive_rate, heal.metrics);
  const std::map<std::string, double> healer_metrics = heal.metrics;
  auto me = caf::actor_cast<caf::actor>(self);
  self->spawn<caf::detached>([=](caf::blocking_actor* worker) {
    // A K-class candidate is checked on its predicted-class distribution instead of a rate.
    Admission a = IsMulticlass(*bundle)
                      ? AdmitMulticlassCandidate(*bundle->model, bundle->calibration->class_rate, candidate, parent,
                                                 rows, policy, healer_metrics)
                      : AdmitCandidate(*bundle->model, candidate, parent, rows, bundle->model->input_dims(), policy,
                                       reported_rate, evidence);
    worker->send(me, admit_atom::value, job, attempt, a.admitted, a.reason, a.positive_rate);
  });
}

void HandleAdmission(CoordinatorSelf self, uint64_t job, uint64_t attempt, bool admitted, const std::string& reason,
                     double measured_rate) {
  auto& st = self->state;
  if (!st.heal || st.heal->job_id != job || st.heal->attempt != attempt || !st.heal->candidate) return;
  HealInFlight heal = std::move(*st.heal);
  st.heal.reset();
    SaveOperatorState(self);
  st.controller.HealFinished(std::nullopt);  // a published candidate is reported below as active
  const uint64_t active = st.runtime->registry().active();
  std::string refusal;
  if (!admitted) refusal = reason;
  else if (active != heal.parent) refusal = "stale: v" + std::to_string(active) + " became active while it healed v" + std::to_string(heal.parent);
  else if (st.pinned) refusal = "a version was pinned while it healed";
  else if (st.policy.mode == HealMode::kFrozen) refusal = "heals were frozen while it healed";
  if (!refusal.empty()) {
    st.metrics.rejections->Increment();
    RecordEvent(self, "heal_rejected", {{"job", job}, {"healer", heal.healer}, {"stage", "coordinator"}, {"reason", refusal}});
    return;
  }
  std::map<std::string, double> metrics = heal.metrics;
  metrics[IsMulticlass(*st.options.bundle) ? "coordinator_class_tv" : "coordinator_positive_rate"] = measured_rate;
  metrics["job"] = static_cast<double>(job);
  auto record = st.runtime->Publish(*heal.candidate, "heal: " + heal.trigger, metrics);
  if (!record.ok()) {
    st.metrics.rejections->Increment();
    RecordEvent(self, "heal_rejected", {{"job", job}, {"stage", "publish"}, {"reason", record.status().message()}});
    return;
  }
  st.metrics.heals_accepted->Increment();
  st.controller.ObserveActive(record->adapter.version, record->adapter.version, control::Origin::kHeal);
  UpdateGauges(self);
  RecordEvent(self, "version_published", {{"version", record->adapter.version}, {"parent", heal.parent},
                                          {"healer", heal.healer}, {"reason", record->reason},
                                          {"labelled_rows", metrics.count("labelled_rows") ? metrics["labelled_rows"] : 0.0}});
}

void Tick(CoordinatorSelf self) {
  auto& st = self->state;
  const int64_t now = CoordinatorNowMs();
  const int64_t dead_after = static_cast<int64_t>(st.options.healer_heartbeat_ms) * std::max(1, st.options.healer_misses);
  for (auto& [id, h] : st.healers) {
    if (h.alive && now - h.last_beat_ms > dead_after) {
      h.alive = false;
      RecordEvent(self, "healer_silent", {{"healer", id}, {"silent_ms", now - h.last_beat_ms}});
      // A silent healer may only be slow (its process is alive: CAF reports deaths with a
      // down_msg). Hand its job over when another healer can take it; otherwise let it finish
      // or time out.
      if (st.heal && !st.heal->candidate && st.heal->healer == id && PickHealer(self)) Dispatch(self);
    }
  }
  if (st.heal && st.heal->waiting_since_ms != 0 &&
      now - st.heal->waiting_since_ms > std::max(100, st.options.heal_timeout_ms)) {
    st.heal->waiting_since_ms = 0;
    Dispatch(self);  // nobody came back: abandoned (or sent, if one just did)
  }
  UpdateGauges(self);
  self->delayed_send(self, std::chrono::milliseconds(kTickMs), tick_atom::value);
}

// A replica's fence has seen an epoch above this coordinator's, or holds a version of this
// epoch that this coordinator did not publish (its EPOCH file was lost, or another coordinator
// ran): take an epoch above it, so the fleet follows this coordinator
// again. Refused (an epoch beyond the registry's maximum) it stays fenced, reported once.
void FollowFleetEpoch(CoordinatorSelf self, const ReplicaInfo& r) {
  auto& st = self->state;
  const AdapterVersion& published = st.runtime->published();
  // At this very epoch, a version this coordinator did not publish (same or higher number,
  // other checksum): a previous life used this epoch too, and the fence keeps that version.
  const bool foreign_at_this_epoch = r.served_epoch == published.epoch && r.served_version >= published.version &&
                                     r.served_checksum != 0 && r.served_checksum != published.checksum;
  if (!Fenced(r, st.runtime->epoch()) && !foreign_at_this_epoch) return;
  const uint64_t before = st.runtime->epoch();
  auto moved = st.runtime->AdvanceEpochPast(r.highest_epoch);
  if (!moved.ok()) {
    if (st.refused_fleet_epoch != r.highest_epoch) {
      st.refused_fleet_epoch = r.highest_epoch;
      RecordEvent(self, "epoch_not_advanced", {{"replica", r.id}, {"replica_epoch", r.highest_epoch},
                                               {"epoch", before}, {"why", moved.status().message()}});
    }
    UpdateGauges(self);
    return;
  }
  if (*moved) {
    RecordEvent(self, "epoch_advanced", {{"from", before}, {"to", st.runtime->epoch()}, {"replica", r.id},
                                         {"replica_epoch", r.highest_epoch}});
    UpdateGauges(self);
  }
}

}  // namespace

bool InStep(const ReplicaInfo& replica, const AdapterVersion& published) {
  return replica.served_epoch == published.epoch && replica.served_version == published.version &&
         replica.served_checksum == published.checksum;
}

CoordinatorState::~CoordinatorState() {
  if (runtime) runtime->Stop();
}

int64_t CoordinatorNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void RecordEvent(CoordinatorSelf self, const std::string& event, nlohmann::json fields) {
  auto& st = self->state;
  if (st.options.log) st.options.log(event, fields);
  fields["event"] = event;
  fields["unix_ms"] = CoordinatorNowMs();
  st.events.push_back(std::move(fields));
  while (st.events.size() > kMaxEvents) st.events.pop_front();
}

Status StartHeal(CoordinatorSelf self, const std::string& trigger) {
  auto& st = self->state;
  if (st.heal) return Status::FailedPrecondition("heal job " + std::to_string(st.heal->job_id) + " is still running");
  bool any_alive = false;
  for (const auto& [id, h] : st.healers) any_alive = any_alive || (h.alive && h.handle);
  if (!any_alive) return Status::Unavailable("no live healer has joined");
  const size_t need = static_cast<size_t>(std::min(st.policy.min_rows, st.policy.window_rows));
  std::vector<float> rows;
  std::vector<int8_t> labels;
  st.drift->HealRows(static_cast<size_t>(st.policy.window_rows), &rows, &labels);
  const size_t cols = st.options.bundle->model->input_dims();
  const size_t n = rows.size() / cols;
  if (n < need) {
    return Status::FailedPrecondition("only " + std::to_string(n) + " sampled rows so far; a heal needs " + std::to_string(need));
  }
  bool any_label = false;
  for (int8_t l : labels) any_label = any_label || l >= 0;
  if (!any_label) labels.clear();

  wire::HealJob job;
  job.job_id = st.next_job_id++;
  job.base = st.runtime->active().adapter;
  job.cols = static_cast<uint32_t>(cols);
  job.rows = rows;
  job.labels = labels;
  job.policy = st.policy.ToMap();
  job.new_version = st.runtime->registry().LatestVersion() + 1;
  job.epoch = st.runtime->epoch();

  HealInFlight heal;
  heal.job_id = job.job_id;
  heal.job_bytes = EncodePayload(job);
  heal.rows = std::move(rows);
  heal.parent = job.base.version;
  heal.trigger = trigger;
  heal.started_ms = CoordinatorNowMs();
  st.heal = std::move(heal);
  SaveOperatorState(self);  // the job id and the job in flight survive a restart
  st.controller.HealStarted(st.heal->started_ms);
  st.metrics.heals_started->Increment();
  RecordEvent(self, "heal_started", {{"job", job.job_id}, {"trigger", trigger}, {"rows", n},
                                     {"labelled_rows", any_label ? std::count_if(job.labels.begin(), job.labels.end(), [](int8_t l) { return l >= 0; }) : 0},
                                     {"base", job.base.version}});
  Dispatch(self);
  return Status();
}

Result<VersionRecord> PublishWeightsOf(CoordinatorSelf self, uint64_t target, const std::string& reason,
                                       control::Origin origin) {
  auto& st = self->state;
  const VersionRecord* record = st.runtime->registry().Get(target);
  if (!record) return Status::NotFound("version " + std::to_string(target) + " is not in the registry");
  auto published = st.runtime->Publish(record->adapter, reason, {{"weights_of", static_cast<double>(target)}});
  if (!published.ok()) return published.status();
  st.metrics.rollbacks->Increment();
  st.controller.ObserveActive(published->adapter.version, target, origin);
  UpdateGauges(self);
  RecordEvent(self, "version_published", {{"version", published->adapter.version}, {"weights_of", target},
                                          {"parent", published->adapter.parent}, {"reason", reason}});
  return published;
}

coordinator_actor::behavior_type CoordinatorBehavior(CoordinatorSelf self, CoordinatorOptions options,
                                                     std::shared_ptr<CoordinatorRuntime> runtime) {
  auto& st = self->state;
  st.options = std::move(options);
  st.runtime = std::move(runtime);
  st.policy = st.options.policy;
  RestoreOperatorState(self);  // mode, pin, policy-set keys, job ids; reports an interrupted heal
  st.registry = RegistryOrPrivate(st.options.metrics);
  st.metrics = MakeCoordinatorMetrics(*st.registry, st.options.id);
  st.metrics.epoch->Set(static_cast<double>(st.runtime->epoch()));
  const ModelBundle& bundle = *st.options.bundle;
  st.drift.emplace(bundle.fidi, bundle.model->input_dims(), static_cast<size_t>(std::max(1, st.options.window_summaries)),
                   static_cast<size_t>(std::max(1, st.policy.window_rows)));
  const CleanReference clean = CleanReferenceOf(bundle);
  st.clean_accuracy = clean.accuracy;
  st.clean_prior_estimate = clean.prior_estimate;
  {
    // A restarted coordinator takes the registry's active version as its starting point; a
    // version it did not make in this run is left to the operator.
    const VersionRecord& active = st.runtime->active();
    const auto weights = active.metrics.find("weights_of");
    const uint64_t weights_of = weights == active.metrics.end() ? active.adapter.version : static_cast<uint64_t>(weights->second);
    st.controller.ObserveActive(active.adapter.version, weights_of,
                                active.adapter.version == 0 ? control::Origin::kInitial : control::Origin::kOperator);
  }
  SyncController(self);
  UpdateGauges(self);
  RecordEvent(self, "coordinator_started", {{"epoch", st.runtime->epoch()}, {"active", st.runtime->registry().active()},
                                            {"weights_publish", st.runtime->publisher().publish_endpoint()},
                                            {"weights_snapshot", st.runtime->publisher().snapshot_endpoint()}});

  self->set_down_handler([=](caf::down_msg& msg) {
    auto& s = self->state;
    for (auto& [id, r] : s.replicas) {
      if (r.handle && r.handle.address() == msg.source) {
        r.alive = false;
        r.handle = nullptr;
        s.drift->Forget(id);
        RecordEvent(self, "replica_lost", {{"replica", id}});
      }
    }
    for (auto& [id, h] : s.healers) {
      if (h.handle && h.handle.address() == msg.source) {
        h.alive = false;
        h.handle = nullptr;
        RecordEvent(self, "healer_lost", {{"healer", id}});
        if (s.heal && !s.heal->candidate && s.heal->healer == id) {
          // A lost link is not a failed attempt: the same healer may take the job if it comes back.
          s.heal->tried.erase(id);
          Dispatch(self, true);
        }
      }
    }
    UpdateGauges(self);
  });
  self->send(self, tick_atom::value);

  return {
      [=](hello_atom, std::string& id, std::string& endpoint, caf::actor& handle) -> caf::result<uint64_t> {
        auto& s = self->state;
        auto live = s.replicas.find(id);
        if (live != s.replicas.end() && live->second.alive && live->second.handle && live->second.handle != handle) {
          // A second process claiming a live replica's id: refused until the first one's link
          // goes down (a restarted replica says hello again and gets in then).
          RecordEvent(self, "replica_refused", {{"replica", id}, {"endpoint", endpoint},
                                                {"why", "id is live on another connection"}});
          return caf::make_error(caf::sec::runtime_error, "replica id '" + id + "' is live on another connection");
        }
        ReplicaInfo& r = s.replicas[id];
        r.id = id;
        r.endpoint = endpoint;
        r.handle = handle;
        r.alive = true;
        r.last_summary_ms = CoordinatorNowMs();
        self->monitor(handle);
        RecordEvent(self, "replica_joined", {{"replica", id}, {"endpoint", endpoint}});
        UpdateGauges(self);
        return s.runtime->epoch();
      },
      [=](healer_atom, std::string& id, std::string& device, uint32_t max_concurrent, caf::actor& handle) {
        auto& s = self->state;
        HealerInfo& h = s.healers[id];
        h.id = id;
        h.device = device;
        h.handle = handle;
        h.max_concurrent = std::max<uint32_t>(1, max_concurrent);
        h.load = 0;
        h.alive = true;
        h.last_beat_ms = CoordinatorNowMs();
        self->monitor(handle);
        RecordEvent(self, "healer_joined", {{"healer", id}, {"device", device}});
        UpdateGauges(self);
        RetryWaitingHeal(self);
      },
      [=](beat_atom, std::string& id, uint32_t load) {
        auto& s = self->state;
        auto it = s.healers.find(id);
        if (it == s.healers.end()) return;  // unknown: it must join first
        if (!it->second.handle) {
          // Its handle was cleared by a down_msg, possibly the late one of an old connection
          // (a reconnected healer's proxy has the same address): the beat's sender is the healer.
          auto sender = caf::actor_cast<caf::actor>(self->current_sender());
          if (!sender) return;
          it->second.handle = sender;
          self->monitor(sender);
          RecordEvent(self, "healer_back", {{"healer", id}, {"handle", "restored from its heartbeat"}});
        } else if (!it->second.alive) {
          RecordEvent(self, "healer_back", {{"healer", id}});
        }
        const bool was_away = !it->second.alive;
        it->second.alive = true;
        it->second.load = load;
        it->second.last_beat_ms = CoordinatorNowMs();
        if (was_away) RetryWaitingHeal(self);
      },
      [=](summary_atom, std::string& bytes) {
        auto& s = self->state;
        auto summary = DecodePayload<wire::DriftSummary>(bytes, "drift summary");
        Status added = summary.ok() ? s.drift->AddStatistics(*summary) : summary.status();
        if (!added.ok()) {
          s.metrics.bad_summaries->Increment();
          RecordEvent(self, "summary_refused", {{"error", added.message()}});
          return;
        }
        auto known = s.replicas.find(summary->replica_id);
        if (known != s.replicas.end() && known->second.alive && known->second.handle &&
            caf::actor_cast<caf::actor_addr>(self->current_sender()) != known->second.handle.address()) {
          // Only the connection that joined as this id may speak for it.
          s.metrics.bad_summaries->Increment();
          RecordEvent(self, "summary_refused", {{"replica", summary->replica_id},
                                                {"error", "sent by a connection that did not join as this replica"}});
          return;
        }
        s.metrics.summaries->Increment();
        ReplicaInfo& r = s.replicas[summary->replica_id];
        r.id = summary->replica_id;
        r.last_summary_ms = CoordinatorNowMs();
        r.served_version = summary->served_version;
        r.served_epoch = summary->served_epoch;
        r.served_checksum = summary->served_checksum;
        r.highest_epoch = summary->highest_epoch;
        r.rows_scored += summary->rows_scored;
        FollowFleetEpoch(self, r);
        ObserveSummary(self, *summary);
        s.drift->AddRows(*summary);
        Act(self);
      },
      [=](label_atom, std::string& from, uint64_t request_id, uint32_t row, uint8_t label) {
        auto& s = self->state;
        for (auto& [id, r] : s.replicas) {
          if (id == from || !r.handle) continue;
          self->send(caf::actor_cast<replica_actor>(r.handle), label_atom::value, request_id, row, label, true);
        }
      },
      [=](control_atom, std::string& bytes) -> std::string {
        auto request = DecodePayload<wire::ControlRequest>(bytes, "control request");
        if (!request.ok()) {
          wire::ControlReply reply;
          reply.error = wire::ErrorCode::kMalformed;
          reply.message = request.status().message();
          return EncodePayload(reply);
        }
        return EncodePayload(HandleControl(self, *request));
      },
      [=](tick_atom) { Tick(self); },
      [=](admit_atom, uint64_t job, uint64_t attempt, bool admitted, std::string& reason, double rate) {
        HandleAdmission(self, job, attempt, admitted, reason, rate);
      },
  };
}

Result<coordinator_actor> SpawnCoordinator(caf::actor_system& system, const CoordinatorOptions& options) {
  std::vector<std::string> problems;
  auto runtime = CoordinatorRuntime::Start(options, &problems);
  if (!runtime.ok()) return runtime.status();
  if (options.log) {
    for (const std::string& p : problems) options.log("registry_problem", {{"detail", p}});
  }
  std::shared_ptr<CoordinatorRuntime> rt = std::move(*runtime);
  return system.spawn(CoordinatorBehavior, options, rt);
}

}  // namespace reflex::actors
