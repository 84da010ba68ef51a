// Prometheus metrics of the cluster actors (prometheus-cpp). Each actor registers its families
// on the registry its options name (a private one when none is given, so code never checks for
// null); services expose that registry over HTTP (services/common/metrics_server.h).
//
// Names follow Prometheus conventions: reflex_<what>[_total|_seconds] (counters end in _total, durations are seconds; `promtool check metrics` accepts every service's output); every series carries the
// process id as label `id`. The handles point into the registry, which must outlive them.
// Thread-safety: prometheus-cpp metrics are safe to update from any thread.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace reflex::actors {

struct ReplicaMetrics {
  prometheus::Counter* rows_scored;        // reflex_rows_scored_total
  prometheus::Histogram* score_latency;    // reflex_score_latency_seconds (one model call, a batch)
  prometheus::Gauge* served_version;       // reflex_served_version
  prometheus::Gauge* ready;                // reflex_ready (1 once the fleet's version is held)
  prometheus::Gauge* drift_z;              // reflex_drift_z (this replica's last window, max z)
  prometheus::Counter* conflicts;          // reflex_rule_conflicts_total
  prometheus::Counter* summaries_sent;     // reflex_summaries_sent_total
  prometheus::Counter* summaries_dropped;  // reflex_summaries_dropped_total (coordinator away)
  prometheus::Counter* labels_joined;      // reflex_labels_joined_total
  prometheus::Counter* labels_forwarded;   // reflex_labels_forwarded_total
  prometheus::Counter* dropped_updates;    // reflex_dropped_updates_total (weight-bus drops so far)
  prometheus::Gauge* fenced;               // reflex_fenced (1: its coordinator's epoch is below the bus's)
};

struct CoordinatorMetrics {
  prometheus::Gauge* current_version;      // reflex_current_version
  prometheus::Gauge* epoch;                // reflex_epoch
  prometheus::Gauge* drift_z;              // reflex_drift_z (merged window, max z)
  prometheus::Gauge* conflict_rate;        // reflex_conflict_rate
  prometheus::Counter* summaries;          // reflex_summaries_total
  prometheus::Counter* bad_summaries;      // reflex_bad_summaries_total
  prometheus::Counter* heals_started;      // reflex_heals_started_total
  prometheus::Counter* heals_accepted;     // reflex_heals_total
  prometheus::Counter* rejections;         // reflex_heal_rejections_total
  prometheus::Counter* reassignments;      // reflex_heal_reassignments_total
  prometheus::Counter* rollbacks;          // reflex_rollbacks_total
  prometheus::Gauge* replicas;             // reflex_replicas
  prometheus::Gauge* replicas_in_step;     // reflex_replicas_in_step ((epoch, version, checksum) match)
  prometheus::Gauge* replicas_fenced;      // reflex_replicas_fenced (fence above this epoch)
  prometheus::Gauge* healers_alive;        // reflex_healers_alive
};

struct HealerMetrics {
  prometheus::Counter* jobs;               // reflex_heal_jobs_total
  prometheus::Counter* accepted;           // reflex_heal_jobs_accepted_total
  prometheus::Counter* rejected;           // reflex_heal_jobs_rejected_total
  prometheus::Counter* failed;             // reflex_heal_jobs_failed_total
  prometheus::Gauge* load;                 // reflex_healer_load (jobs running)
  prometheus::Histogram* heal_duration;    // reflex_heal_duration_seconds
};

ReplicaMetrics MakeReplicaMetrics(prometheus::Registry& registry, const std::string& id);
CoordinatorMetrics MakeCoordinatorMetrics(prometheus::Registry& registry, const std::string& id);
HealerMetrics MakeHealerMetrics(prometheus::Registry& registry, const std::string& id);

// The registry to use: `given` when set, else a new private one.
std::shared_ptr<prometheus::Registry> RegistryOrPrivate(std::shared_ptr<prometheus::Registry> given);

}  // namespace reflex::actors
