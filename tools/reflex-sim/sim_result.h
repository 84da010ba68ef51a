// SimResult: everything one reflex-sim run measured, as plain values.
//
// Produced by the experiment (experiment.h) and consumed by the writers (report_writer.h),
// which print the table and write summary.json, metrics.csv, events.json and report.html.
// Plain data; no synchronisation. Rates are fractions in [0, 1]; costs are per 1,000 rows.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"

namespace reflex::sim {

// Totals of one arm over the whole stream (prequential: each batch scored before it was learned from).
struct ArmSummary {
  std::string name;            // "frozen", "healed_labels", "healed_label_free", "oracle"
  std::string labels_used;     // human description, e.g. "none", "100% of rows, 0 batches late"
  Confusion confusion;
  int heal_events = 0;         // accepted heals (new versions)
  int rejections = 0;          // candidates refused by the validation gate
  int rollbacks = 0;
  uint64_t final_version = 0;  // version serving at the end of the stream
  std::optional<double> cost_per_1000;      // set when --cost-fp/--cost-fn are given
  std::optional<double> bayes_frontier_f1;  // best F1 any classifier reaches at this arm's accuracy (seed only)
  // Multi-class runs: `confusion` counts a correct prediction as tp and a wrong one as fn (so its
  // accuracy() is the accuracy), and the macro-averaged F1 over the classes is here.
  std::optional<double> macro_f1;
};

// One arm during one batch.
struct ArmBatch {
  double accuracy = 0;
  double f1 = 0;                // multi-class runs: macro F1 over the classes present in the batch
  uint64_t served_version = 0;  // version that scored this batch
  std::string action;           // what the arm did after the batch: "", "heal v3", "reject", "rollback v2"
};

// One batch of the stream.
struct BatchRecord {
  size_t batch = 0;                       // 0-based
  double fidi_z = 0;                      // max z over monitored features after this batch
  bool drift = false;                     // FIDI drift flag after this batch
  uint64_t conflicts = 0;                 // rule conflicts of the frozen model on this batch
  std::map<std::string, ArmBatch> arms;   // keyed by arm name
};

// A heal, rejection or rollback.
struct SimEvent {
  size_t batch = 0;
  std::string arm;
  std::string kind;         // "heal", "rejection", "rollback"
  uint64_t version = 0;     // new version (heal), candidate's would-be version (rejection), target (rollback)
  uint64_t from_version = 0;
  std::string reason;       // why: gate verdict, health verdict, drift diagnosis
  std::map<std::string, double> details;  // numbers behind the reason (positive rate, losses, z, ...)
};

// Reference figures printed beside the table for the `seed` scenario.
struct PublishedFigures {
  double clean_accuracy = 0.929;
  double drift_accuracy = 0.446;
  double healed_accuracy = 0.724;
  double bayes_ceiling_accuracy = 0.850;  // computed from the generator, not copied
};

struct SimResult {
  std::string tool = "reflex-sim";  // names the run in the table's header line
  std::string scenario;            // "seed", "recalibration", "prior", or "csv"
  uint64_t seed = 0;
  size_t batch_size = 0;
  double fidi_threshold = 0;
  std::vector<std::string> arm_order;  // arms in display order
  std::map<std::string, ArmSummary> arms;
  std::vector<BatchRecord> batches;
  std::vector<SimEvent> events;
  std::optional<PublishedFigures> published;   // seed only
  std::optional<double> cost_fp, cost_fn;       // when given
  std::vector<std::string> notes;               // lines printed under the table
  uint32_t num_classes = 1;                     // >= 2: a multi-class (image) run
};

}  // namespace reflex::sim
