#include "actors/metrics.h"

namespace reflex::actors {
namespace {

using prometheus::Labels;

prometheus::Counter* Counter(prometheus::Registry& r, const std::string& name, const std::string& help,
                             const std::string& id) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(Labels{{"id", id}});
}
prometheus::Gauge* Gauge(prometheus::Registry& r, const std::string& name, const std::string& help,
                         const std::string& id) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(Labels{{"id", id}});
}
prometheus::Histogram* Histogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                                 const std::string& id, prometheus::Histogram::BucketBoundaries buckets) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(Labels{{"id", id}}, std::move(buckets));
}

}  // namespace

std::shared_ptr<prometheus::Registry> RegistryOrPrivate(std::shared_ptr<prometheus::Registry> given) {
  return given ? std::move(given) : std::make_shared<prometheus::Registry>();
}

ReplicaMetrics MakeReplicaMetrics(prometheus::Registry& r, const std::string& id) {
  ReplicaMetrics m;
  m.rows_scored = Counter(r, "reflex_rows_scored_total", "Rows scored", id);
  m.score_latency = Histogram(r, "reflex_score_latency_seconds", "Latency of one model call (a batch), seconds", id,
                              {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25});
  m.served_version = Gauge(r, "reflex_served_version", "Adapter version being served", id);
  m.ready = Gauge(r, "reflex_ready", "1 once the replica holds the fleet's version", id);
  m.drift_z = Gauge(r, "reflex_drift_z", "FIDI max z of the last summary window", id);
  m.conflicts = Counter(r, "reflex_rule_conflicts_total", "Rows where a rule fired against the model", id);
  m.summaries_sent = Counter(r, "reflex_summaries_sent_total", "Drift summaries sent", id);
  m.summaries_dropped = Counter(r, "reflex_summaries_dropped_total", "Summaries not sent: coordinator away", id);
  m.labels_joined = Counter(r, "reflex_labels_joined_total", "Delayed labels joined to scored rows", id);
  m.labels_forwarded = Counter(r, "reflex_labels_forwarded_total", "Labels for rows scored elsewhere", id);
  m.dropped_updates = Counter(r, "reflex_dropped_updates_total", "Weight-bus updates dropped (integrity, fencing, order)", id);
  m.fenced = Gauge(r, "reflex_fenced", "1 when this replica's coordinator epoch is below the highest epoch on its bus", id);
  return m;
}

CoordinatorMetrics MakeCoordinatorMetrics(prometheus::Registry& r, const std::string& id) {
  CoordinatorMetrics m;
  m.current_version = Gauge(r, "reflex_current_version", "Adapter version the fleet should serve", id);
  m.epoch = Gauge(r, "reflex_epoch", "Coordinator epoch (fencing)", id);
  m.drift_z = Gauge(r, "reflex_drift_z", "FIDI max z of the merged drift window", id);
  m.conflict_rate = Gauge(r, "reflex_conflict_rate", "Rule conflicts per row in the merged window", id);
  m.summaries = Counter(r, "reflex_summaries_total", "Drift summaries merged", id);
  m.bad_summaries = Counter(r, "reflex_bad_summaries_total", "Drift summaries refused as malformed", id);
  m.heals_started = Counter(r, "reflex_heals_started_total", "Heal jobs sent to a healer", id);
  m.heals_accepted = Counter(r, "reflex_heals_total", "Heals accepted and published", id);
  m.rejections = Counter(r, "reflex_heal_rejections_total", "Candidates rejected (healer or coordinator gate)", id);
  m.reassignments = Counter(r, "reflex_heal_reassignments_total", "Jobs handed to another healer", id);
  m.rollbacks = Counter(r, "reflex_rollbacks_total", "Rollbacks published (automatic and commanded)", id);
  m.replicas = Gauge(r, "reflex_replicas", "Replicas known", id);
  m.replicas_in_step = Gauge(r, "reflex_replicas_in_step", "Live replicas serving the published (epoch, version, checksum)", id);
  m.replicas_fenced = Gauge(r, "reflex_replicas_fenced", "Replicas whose fence is above this coordinator's epoch", id);
  m.healers_alive = Gauge(r, "reflex_healers_alive", "Healers alive", id);
  return m;
}

HealerMetrics MakeHealerMetrics(prometheus::Registry& r, const std::string& id) {
  HealerMetrics m;
  m.jobs = Counter(r, "reflex_heal_jobs_total", "Heal jobs received", id);
  m.accepted = Counter(r, "reflex_heal_jobs_accepted_total", "Jobs whose candidate passed the gate", id);
  m.rejected = Counter(r, "reflex_heal_jobs_rejected_total", "Jobs whose candidate was rejected", id);
  m.failed = Counter(r, "reflex_heal_jobs_failed_total", "Jobs that failed (bad job, library error)", id);
  m.load = Gauge(r, "reflex_healer_load", "Heal jobs running now", id);
  m.heal_duration = Histogram(r, "reflex_heal_duration_seconds", "Heal duration, seconds", id,
                              {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  return m;
}

}  // namespace reflex::actors
