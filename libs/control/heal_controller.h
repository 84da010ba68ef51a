// HealController: the one brain that decides when to heal, when to roll back and when to go back
// to version 0. The coordinator (actors/coordinator.cc), reflex-sim's tabular and image
// experiments and the embedded cluster all feed it the same observations and carry out its
// decisions; only their clock differs (batches in reflex-sim, milliseconds in the cluster).
//
//   observations                                   decisions (each with its reason)
//   ObserveDrift     drift statistics of new rows   kHeal           heal on the rows since onset_row
//   ObserveLabels    a version vs version 0 on the  kRollback       serve the weights of `target`
//                    same labelled rows              kReturnToAnchor serve version 0 again
//   HealStarted/HealFinished, ObserveActive,        kNone
//   SetMode, SetPinned (operator)
//
// Rules, each in one place below:
// - Drift is on while any signal is: the windowed FIDI z above fidi_threshold, the rule-conflict
//   rate above conflict_threshold, the prior estimate (core/shift_diagnosis.h EstimateStreamPrior
//   on version 0's posteriors) further from its clean value than both prior_shift_threshold and
//   label_signal_z of its standard errors, the driver's own signal (DriftObservation::signal),
//   or recent labels showing the positive rate or
//   version 0's accuracy moved from their clean values (binomial z above label_signal_z). The
//   row at which drift came on is the episode's onset: a heal learns only from rows after it.
// - Drift ends after drift_gone_rows rows with no label-free signal (FIDI of the newest rows
//   alone, conflicts, prior). Labels arrive late, so they cannot end a drift, but they can keep
//   a healed version: at the end of drift the fleet returns to version 0 unless the active
//   version's labelled rows scored since the inputs looked clean again show it beats version 0
//   on the same rows.
// - Health: the active version (when the controller made it, not an operator) is compared with
//   version 0 on the same labelled rows it served (control/paired_outcome.h). When worse, it is
//   rolled back to the most accurate other version of the episode whose own served record is
//   not worse than version 0's, else to version 0.
// - Heals: in auto mode, not pinned, none in flight, drift on, at least min_rows rows since the
//   onset, reheal_rows new rows since the last attempt and `cooldown` clock units passed.
// - Only auto mode makes decisions; manual and frozen leave everything to the operator, and a
//   version an operator chose (rollback, pin) is never undone automatically.
//
// Ownership: a plain value owned by one driver. Thread-safety: none (the coordinator calls it
// from its actor only). No I/O, no clock of its own: `now` comes with every call. Units: rows
// are stream rows; `now` and `cooldown` are the driver's clock units; rates are fractions.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "control/paired_outcome.h"
#include "core/heal_policy.h"

namespace reflex::control {

struct ControllerConfig {
  HealMode mode = HealMode::kAuto;
  double fidi_threshold = 1.0;
  double conflict_threshold = 0.30;
  double prior_shift_threshold = 0.05;
  double label_signal_z = 3.0;       // labelled prior or version-0 accuracy moved: binomial z bound
  // Version 0's labelled accuracy must also fall this far below clean_accuracy: the clean figure
  // comes from the training rows, where the model is a little better than on new clean rows.
  double label_accuracy_drop = 0.10;
  double clean_prior = 0.5;          // positive rate of the clean training labels
  // What the prior estimator says on clean data (on version 0's own clean posteriors): the
  // reference a stream's estimate is compared with, since an estimator that is biased (EM, for a
  // model that is not calibrated) is biased the same way on clean and on drifted rows. Unset:
  // clean_prior.
  std::optional<double> clean_prior_estimate;
  double clean_accuracy = 1.0;       // version 0's accuracy on its clean data
  bool multiclass = false;           // no prior or F1 signals; accuracy only
  uint64_t min_rows = 300;           // rows since onset before the first heal of an episode
  uint64_t reheal_rows = 100;        // new rows since the last heal attempt before another
  int64_t cooldown = 0;              // clock units after a heal attempt before the next
  uint64_t drift_gone_rows = 300;    // rows without a label-free signal that end a drift
  uint64_t label_window_rows = 2000; // labels of rows scored this recently feed signals and health
  PairedTest health;                 // health and the keep-at-end test

  // The policy's keys mapped onto the controller's: drift_gone_batches and cooldown_batches are
  // counted in batches of `batch_rows` rows.
  static ControllerConfig FromPolicy(const TriggerPolicy& policy, double clean_prior, double clean_accuracy,
                                     bool multiclass, uint64_t batch_rows);
};

struct DriftObservation {
  int64_t now = 0;
  uint64_t rows = 0;                  // rows these statistics add to the stream
  double fidi_z = 0;                  // windowed max z (for the onset)
  std::optional<double> fidi_z_now;   // the newest rows alone (for the end); default fidi_z
  std::optional<double> conflict_rate;
  std::optional<double> prior_estimate;
  double prior_estimate_se = 0;       // its standard error (0: unknown): its noise bounds what counts as a move
  std::string signal;  // a driver's own label-free signal that is on (e.g. "image centroids scattered"); "" off
};

struct LabelledObservation {
  uint64_t served_version = 0;  // the version that scored the rows
  std::optional<uint64_t> scored_at_row;  // stream rows before the first of them was scored; unset: just now
  PairedOutcome outcome;        // that version vs version 0 on the rows
};

enum class Action { kNone, kHeal, kRollback, kReturnToAnchor };
const char* ActionName(Action action);

struct Decision {
  Action action = Action::kNone;
  uint64_t target = 0;     // kRollback: the version whose weights to serve
  uint64_t since_row = 0;  // kHeal: learn only from rows scored at or after this stream row
  std::string reason;
};

// Where an active version came from: only the controller's own versions are watched.
enum class Origin { kInitial, kHeal, kController, kOperator };

class HealController {
 public:
  explicit HealController(ControllerConfig config);

  void ObserveDrift(const DriftObservation& observation);
  void ObserveLabels(const LabelledObservation& observation);
  // The driver carried out a kHeal decision; HealFinished reports its outcome (nullopt: rejected,
  // failed or abandoned). A driver that cannot start the heal calls HealFinished(nullopt) at once.
  void HealStarted(int64_t now);
  void HealFinished(std::optional<uint64_t> new_version);
  // A version became active: `weights_of` is the version whose weights it serves (itself for a
  // heal; the target for a rollback published under a new number).
  void ObserveActive(uint64_t version, uint64_t weights_of, Origin origin);
  void SetMode(HealMode mode) { config_.mode = mode; }
  void SetPinned(bool pinned) { pinned_ = pinned; }
  void SetConfig(const ControllerConfig& config) { config_ = config; }

  // The decision for now. kNone most of the time.
  Decision Decide(int64_t now);

  // --- read-only state for status pages, events and tests ---
  bool drifting() const { return drifting_; }
  uint64_t onset_row() const { return onset_row_; }
  uint64_t rows_seen() const { return rows_seen_; }
  uint64_t active_version() const { return active_; }
  uint64_t active_weights() const { return active_weights_; }
  bool heal_in_flight() const { return heal_in_flight_; }
  const std::string& drift_reason() const { return drift_reason_; }
  const ControllerConfig& config() const { return config_; }

 private:
  struct Chunk {
    uint64_t scored_at_row;
    uint64_t weights;  // weights that scored it
    PairedOutcome outcome;
  };
  // Why recent labels (rows scored at or after since_row) say the data moved; "" when they do not.
  std::string LabelSignal(uint64_t since_row) const;
  // Every labelled chunk scored by a version of the current chain of heals at or after since_row.
  PairedOutcome Lineage(uint64_t since_row) const;
  bool Watching() const;  // auto mode, not pinned, and the active version is the controller's own
  void UpdateDrift(const DriftObservation& o);
  void EndEpisode();
  Decision CheckHealth();
  Decision CheckDriftGone();
  Decision CheckHeal(int64_t now);
  uint64_t RollbackTarget() const;

  ControllerConfig config_;
  bool pinned_ = false;
  uint64_t rows_seen_ = 0;
  bool drifting_ = false;
  std::string drift_reason_;
  uint64_t onset_row_ = 0;
  uint64_t episode_end_row_ = 0;              // labels scored before it belong to an earlier episode
  std::optional<uint64_t> quiet_since_row_;   // first row of the current run without a label-free signal
  uint64_t holdoff_until_row_ = 0;            // no heal before this row (after a health rollback)
  bool heal_in_flight_ = false;
  uint64_t last_attempt_row_ = 0;
  std::optional<int64_t> last_attempt_time_;
  uint64_t active_ = 0, active_weights_ = 0;
  Origin active_origin_ = Origin::kInitial;
  // Healed versions are judged together from the row the chain of heals started serving (a heal
  // on a heal continues it; a rollback or an operator's choice starts a new one).
  std::optional<uint64_t> lineage_since_row_;
  std::set<uint64_t> lineage_;                        // weights of the chain's versions
  std::map<uint64_t, uint64_t> weights_of_;          // version number -> weights it serves
  std::map<uint64_t, PairedOutcome> episode_record_; // weights -> served record this episode
  std::deque<Chunk> recent_;                          // labelled chunks, oldest first
};

}  // namespace reflex::control
