// EmbeddedCluster: a whole Reflex cluster in one process, driven through a drift scenario.
//
// One CAF actor system holds a coordinator, a healer and N replicas; the weight bus runs over
// inproc:// on one shared ZeroMQ context, and the driver scores through the replicas' real
// ZeroMQ endpoints on 127.0.0.1 (ephemeral ports) with the C++ scoring client, so the path a
// request takes is the production one. The driver streams the scenario's clean rows, then its
// drifted rows, in batches, sending each batch's labels `label_delay` batches later (to whichever
// replica the client picks; a replica that did not score the row forwards it), and reports
// what happened: drift detected, heal, fleet on the new version, accuracy recovered.
//
// Blocking (seconds): call from a tool's main thread. Owns everything it starts and stops it
// all before returning.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/heal_policy.h"
#include "core/status.h"

namespace reflex::sim {

struct EmbeddedOptions {
  std::string scenario = "recalibration";
  uint64_t seed = 1;
  int replicas = 3;
  size_t batch_rows = 25;
  int label_delay_batches = 4;
  double label_fraction = 1.0;   // fraction of rows whose label ever arrives
  double rows_per_second = 500; // pacing of the stream (0: as fast as the fleet answers)
  std::string work_dir;          // where the bundle is written; empty: a temporary folder
  HealPolicy policy;             // the coordinator's policy
};

struct PhaseAccuracy {
  std::string name;
  uint64_t rows = 0, correct = 0;
  uint64_t first_version = UINT64_MAX, last_version = 0;
  double accuracy() const { return rows ? static_cast<double>(correct) / static_cast<double>(rows) : 0.0; }
};

struct EmbeddedReport {
  std::vector<PhaseAccuracy> phases;  // clean, drifted before the first heal, drifted after it
  double frozen_holdout_accuracy = 0;
  double served_holdout_accuracy = 0;
  uint64_t final_version = 0;
  uint64_t failed_requests = 0;
  bool drift_detected = false, healed = false, converged = false;
};

// `print` receives one human-readable line per notable event, as it happens.
Result<EmbeddedReport> RunEmbeddedCluster(const EmbeddedOptions& options, std::function<void(const std::string&)> print);

}  // namespace reflex::sim
