// CoordinatorRuntime: the coordinator's durable and networked parts, started before its actor
// so that a start-up failure (registry folder, bind) reaches the caller as a Status.
//
//   - the version registry (core/registry.h), persisted in registry_dir (in memory when empty);
//   - the epoch: registry_dir/EPOCH holds the last epoch (VersionRegistry::TakeNextEpoch); each
//     start takes the next one and writes it back (atomically) before publishing anything, so a
//     restarted coordinator fences every update of its previous life. Replicas report the
//     highest epoch they have seen (drift summaries); when one is at or above this epoch (the
//     EPOCH file was lost, or another coordinator ran), AdvanceEpochPast takes an epoch above
//     it and re-publishes the active version under it, so the fleet follows again instead of
//     fencing this coordinator out for good;
//   - the weight publisher (transport/weight_publisher.h), which starts by publishing the
//     registry's active version (version 0 from the bundle on a first start), re-stamped with
//     the new epoch;
//   - with options.security.curve, the publisher's sockets are CURVE servers and, when
//     bus_clients is non-empty, a ZAP handler on the bus context accepts only those subscribers.
// Publish() is the only way a version reaches the fleet: it numbers, stamps, seals, persists,
// activates and then broadcasts, in that order, so the registry never lags the bus.
//
// Ownership: owned by the coordinator actor's state; single-threaded use (the actor).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "actors/cluster_options.h"
#include "core/registry.h"
#include "core/validation_gate.h"
#include "model/healable_model.h"
#include "transport/weight_publisher.h"

namespace reflex::actors {

class CoordinatorRuntime {
 public:
  static Result<std::unique_ptr<CoordinatorRuntime>> Start(const CoordinatorOptions& options,
                                                           std::vector<std::string>* load_problems);
  ~CoordinatorRuntime();

  uint64_t epoch() const { return epoch_; }
  // The active version as last put on the bus (stamped with this epoch): what a replica in step
  // with this coordinator serves, compared by (epoch, version, checksum).
  const AdapterVersion& published() const { return published_; }

  // A replica has seen epoch `seen`. When seen >= epoch(), takes an epoch above it (persisted)
  // and re-publishes the active version under it; returns true when the epoch moved.
  // FailedPrecondition when `seen` is beyond kMaxEpoch (nothing changes: the replica stays
  // fenced and is reported so); IoError when EPOCH cannot be written.
  Result<bool> AdvanceEpochPast(uint64_t seen);
  VersionRegistry& registry() { return *registry_; }
  const VersionRecord& active() const;  // the version the fleet should serve
  const transport::WeightPublisher& publisher() const { return *publisher_; }

  // Makes `weights` (dims of the model) the fleet's next version: number = latest + 1, parent =
  // the active version, this epoch. Returns the new record. Fails (and nothing changes on the
  // bus) when persisting fails.
  Result<VersionRecord> Publish(AdapterVersion adapter, const std::string& reason,
                                std::map<std::string, double> metrics);

  void Stop();  // stops the publisher; the registry is already on disk

 private:
  CoordinatorRuntime() = default;

  CoordinatorOptions options_;
  uint64_t epoch_ = 0;
  AdapterVersion published_;
  std::unique_ptr<VersionRegistry> registry_;
  std::shared_ptr<zmq::context_t> zmq_;
  std::unique_ptr<transport::ZapAuthenticator> zap_;  // bus allow-list (CURVE only); before zmq_ dies
  std::unique_ptr<transport::WeightPublisher> publisher_;
};

// The coordinator's own check of a candidate a healer accepted, run in a detached actor: the
// candidate is intact and descends from `parent`; scored by the coordinator's copy of the model
// on the job's rows, its positive rate is within 0.02 of the rate the healer reported (the
// healer's figures are checked, not trusted) and, when `evidence` is given, within the bounds
// that evidence allows: the very ValidateCandidate / PositiveRateBounds the healer's gate applies
// (core/validation_gate.h), with the parent's rate on the same rows as the current version's.
// Without evidence only the healer's gate has bounded the rate. Returns the verdict's reason
// ("admitted: ..." or why not) and the measured positive rate. Pure apart from scoring; safe
// from any thread (the model is const).
struct Admission {
  bool admitted = false;
  std::string reason;
  double positive_rate = 0;
};
Admission AdmitCandidate(const HealableModel& model, const AdapterVersion& candidate, const AdapterVersion& parent,
                         const std::vector<float>& rows, size_t cols, const HealPolicy& policy,
                         double reported_positive_rate, const std::optional<RateEvidence>& evidence = std::nullopt);

// The evidence for AdmitCandidate: the clean rate from the coordinator's own calibration
// (HealCalibration::clean.clean_positive_rate) and, from the healer's metrics (HealReport::
// Metrics), a label-shift prior ("label_shift" 1, "estimated_prior") and the labelled prior
// ("labelled_rows" > 0, "labelled_prior") when the heal had them. The healer's priors cannot be
// re-measured without its labels; they only place the bounds, the rate itself is re-measured.
RateEvidence AdmissionEvidence(double clean_rate, const std::map<std::string, double>& healer_metrics);

}  // namespace reflex::actors
