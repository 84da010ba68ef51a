// CsvStream: reflex-cluster's CSV mode. A user's stream goes through the embedded cluster
// (embedded_fleet.h: replica actors, coordinator, healer, weight bus, loopback scoring) and is
// measured the way reflex-sim measures its arms, so the two tools' outputs can be compared.
//
//   frozen  version 0 of the deployed model, scored locally on every batch
//   fleet   what the replicas answered, prequential: each batch is scored when it arrives,
//           before any of its labels is sent
// The deployed model is trained on TRAIN.csv exactly as reflex-sim's CSV mode trains it (same
// loader, trainer and seed: the frozen arm is reflex-sim's frozen arm) and bundled like the
// scenario bundles; or, with `bundle_path`, it is the user's own network from a bundle of
// reflex-bundle --model (no training; the stream is read against the bundle as reflex-sim
// --model reads it, and the frozen arm is version 0 of that network, scoring as PyTorch does).
// K-class bundles are refused: the wire protocol (version 1) carries one probability per row. Batches of `batch_rows` rows go out in file order, to the replicas in turn;
// a trailing partial batch is dropped (as reflex-sim does). Labels of a seeded random
// `label_fraction` of each batch's rows (the same rows reflex-sim's healed_labels arm is given)
// are sent `label_delay` batches later to the replica that scored them, which passes them to the
// coordinator with its next drift summary.
// After each batch the driver waits (bounded) until the coordinator has merged the batch's
// summary, until a heal it started has been published or refused, and until every replica serves
// the coordinator's version; replicas summarise after exactly one batch of rows and never on a
// timer, and the coordinator's wall-clock heal cooldown is off unless the policy sets one, so
// heals land between batches, as in reflex-sim, and two runs of the same input tell the same story.
//
// Blocking (seconds to minutes); call from a tool's main thread. Owns the fleet and stops it.
// Units: rows; rates are fractions in [0, 1].
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/heal_policy.h"
#include "core/status.h"
#include "reflex-sim/sim_result.h"

namespace reflex::sim {

struct CsvStreamOptions {
  std::string train_path, stream_path, label_column;
  std::string bundle_path;       // a user's bundle (reflex-bundle --model) instead of train_path
  std::string rules_path;        // may be empty
  std::string monitor;           // comma-separated FIDI features; empty: all
  size_t batch_rows = 100;
  int label_delay_batches = 0;   // reflex-sim's default
  double label_fraction = 1.0;
  uint64_t seed = 1;             // training seed and label draw, as in reflex-sim
  int replicas = 3;
  HealPolicy policy;             // the coordinator's
  std::string work_dir;          // where the bundle is written; empty: a temporary folder
};

struct CsvStreamReport {
  SimResult result;                            // arms "frozen" and "fleet", batches, heal events
  std::vector<nlohmann::json> coordinator_events;  // every event the coordinator logged, with "batch"
  bool drift_detected = false, healed = false, converged = false;
  int64_t first_drift_batch = -1, first_heal_batch = -1;  // -1: never
  int replicas = 0;
  int label_delay_batches = 0;
  double label_fraction = 0;
};

// InvalidArgument / IoError for bad input (naming the file and column); other errors when the
// cluster failed. `print` receives one progress line per notable coordinator event.
Result<CsvStreamReport> RunCsvStream(const CsvStreamOptions& options, std::function<void(const std::string&)> print);

// Writes summary.json (reflex-sim's schema plus a "cluster" object), metrics.csv (reflex-sim's
// columns) and events.json (reflex-sim's "events" plus "coordinator_events") into `dir`, each
// atomically; creates `dir` when missing. IoError naming the path on failure.
Status WriteCsvStreamOutputs(const std::string& dir, const CsvStreamReport& report);

}  // namespace reflex::sim
