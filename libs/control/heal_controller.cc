#include "control/heal_controller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reflex::control {
namespace {

std::string Fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Labelled rows before the label signals say anything: a binomial z on fewer is too coarse.
constexpr uint64_t kMinSignalRows = 30;

}  // namespace

const char* ActionName(Action action) {
  switch (action) {
    case Action::kNone: return "none";
    case Action::kHeal: return "heal";
    case Action::kRollback: return "rollback";
    case Action::kReturnToAnchor: return "return_to_v0";
  }
  return "?";
}

ControllerConfig ControllerConfig::FromPolicy(const TriggerPolicy& p, double clean_prior, double clean_accuracy,
                                              bool multiclass, uint64_t batch_rows) {
  ControllerConfig c;
  c.mode = p.mode;
  c.fidi_threshold = p.fidi_threshold;
  c.conflict_threshold = p.conflict_threshold;
  c.prior_shift_threshold = p.prior_shift_threshold;
  c.clean_prior = clean_prior;
  c.clean_accuracy = clean_accuracy;
  c.multiclass = multiclass;
  c.min_rows = static_cast<uint64_t>(std::max(1, p.min_rows));
  c.reheal_rows = batch_rows * static_cast<uint64_t>(std::max(1, p.cooldown_batches + 1));
  c.drift_gone_rows = batch_rows * static_cast<uint64_t>(std::max(1, p.drift_gone_batches));
  c.health.f1_drop = p.rollback_f1_drop;
  c.label_accuracy_drop = p.label_accuracy_drop;
  c.health.use_f1 = !multiclass;
  return c;
}

HealController::HealController(ControllerConfig config) : config_(std::move(config)) { weights_of_[0] = 0; }

void HealController::ObserveDrift(const DriftObservation& o) {
  rows_seen_ += o.rows;
  UpdateDrift(o);
}

void HealController::ObserveLabels(const LabelledObservation& o) {
  if (o.outcome.rows() == 0) return;
  const auto it = weights_of_.find(o.served_version);
  Chunk chunk{o.scored_at_row ? *o.scored_at_row : rows_seen_ > 0 ? rows_seen_ - 1 : 0,
              it == weights_of_.end() ? o.served_version : it->second, o.outcome};
  if (chunk.scored_at_row + config_.label_window_rows < rows_seen_) return;  // too old to say anything now
  if (drifting_ && chunk.weights != 0 && chunk.scored_at_row >= onset_row_) episode_record_[chunk.weights].Merge(o.outcome);
  recent_.push_back(std::move(chunk));
  while (!recent_.empty() && recent_.front().scored_at_row + config_.label_window_rows < rows_seen_) recent_.pop_front();
}

void HealController::HealStarted(int64_t now) {
  heal_in_flight_ = true;
  last_attempt_row_ = rows_seen_;
  last_attempt_time_ = now;
}

void HealController::HealFinished(std::optional<uint64_t> new_version) {
  heal_in_flight_ = false;
  if (new_version) ObserveActive(*new_version, *new_version, Origin::kHeal);
}

void HealController::ObserveActive(uint64_t version, uint64_t weights_of, Origin origin) {
  weights_of_[version] = weights_of;
  if (weights_of == 0) {
    lineage_since_row_.reset();
    lineage_.clear();
  } else if (!lineage_since_row_ || origin != Origin::kHeal) {
    lineage_since_row_ = rows_seen_;
    lineage_ = {weights_of};
  } else {
    lineage_.insert(weights_of);
  }
  active_ = version;
  active_weights_ = weights_of;
  active_origin_ = origin;
}

PairedOutcome HealController::Lineage(uint64_t since_row) const {
  PairedOutcome sum;
  for (const Chunk& c : recent_) {
    if (lineage_.count(c.weights) && c.scored_at_row >= since_row) sum.Merge(c.outcome);
  }
  return sum;
}

std::string HealController::LabelSignal(uint64_t since_row) const {
  Confusion anchor;
  for (const Chunk& c : recent_) {
    if (c.scored_at_row >= since_row) anchor.Merge(c.outcome.anchor());
  }
  const double n = static_cast<double>(anchor.total());
  if (anchor.total() < kMinSignalRows) return "";
  const double acc = anchor.accuracy(), pa = config_.clean_accuracy;
  const double acc_z = (pa - acc) / std::sqrt(std::max(pa * (1 - pa), 0.01) / n);
  if (acc_z > config_.label_signal_z && pa - acc > config_.label_accuracy_drop) {
    return "labels: v0 accuracy " + Fixed(acc) + " on " + std::to_string(anchor.total()) + " rows, clean " + Fixed(pa);
  }
  if (config_.multiclass) return "";
  const double q = static_cast<double>(anchor.tp + anchor.fn) / n, pi = config_.clean_prior;
  const double prior_z = std::fabs(q - pi) / std::sqrt(std::max(pi * (1 - pi), 1e-4) / n);
  if (prior_z > config_.label_signal_z && std::fabs(q - pi) > config_.prior_shift_threshold) {
    return "labels: positive rate " + Fixed(q) + " on " + std::to_string(anchor.total()) + " rows, clean " + Fixed(pi);
  }
  return "";
}

void HealController::UpdateDrift(const DriftObservation& o) {
  const bool fidi = o.fidi_z > config_.fidi_threshold;
  const bool fidi_now = o.fidi_z_now.value_or(o.fidi_z) > config_.fidi_threshold;
  const bool conflicts = o.conflict_rate && *o.conflict_rate > config_.conflict_threshold;
  const double prior_reference = config_.clean_prior_estimate.value_or(config_.clean_prior);
  const double prior_noise = config_.label_signal_z * o.prior_estimate_se;
  const bool prior = !config_.multiclass && o.prior_estimate &&
                     std::fabs(*o.prior_estimate - prior_reference) > std::max(config_.prior_shift_threshold, prior_noise);
  const bool other = !o.signal.empty();
  const uint64_t first_row = rows_seen_ - o.rows;
  if (!drifting_) {
    std::string why;
    if (fidi) why = "fidi z " + Fixed(o.fidi_z, 2);
    else if (conflicts) why = "rule conflicts " + Fixed(*o.conflict_rate);
    else if (prior) why = "prior estimate " + Fixed(*o.prior_estimate) + ", clean " + Fixed(prior_reference);
    else if (other) why = o.signal;
    uint64_t onset = first_row;
    if (why.empty()) {
      why = LabelSignal(std::max(episode_end_row_, rows_seen_ > config_.label_window_rows ? rows_seen_ - config_.label_window_rows : 0));
      onset = std::max(episode_end_row_, recent_.empty() ? first_row : std::min(first_row, recent_.front().scored_at_row));
    }
    if (why.empty()) return;
    drifting_ = true;
    drift_reason_ = why;
    onset_row_ = onset;
    quiet_since_row_.reset();
    return;
  }
  const bool quiet = !fidi_now && !conflicts && !prior && !other;
  if (!quiet) quiet_since_row_.reset();
  else if (!quiet_since_row_) quiet_since_row_ = first_row;
}

void HealController::EndEpisode() {
  drifting_ = false;
  drift_reason_.clear();
  quiet_since_row_.reset();
  episode_record_.clear();
  episode_end_row_ = rows_seen_;
}

bool HealController::Watching() const {
  return config_.mode == HealMode::kAuto && !pinned_ && active_weights_ != 0 &&
         (active_origin_ == Origin::kHeal || active_origin_ == Origin::kController);
}

uint64_t HealController::RollbackTarget() const {
  uint64_t best = 0;
  double best_accuracy = -1;
  for (const auto& [weights, record] : episode_record_) {
    if (weights == active_weights_ || weights == 0) continue;
    const Comparison c = CompareToAnchor(record, config_.health);
    if (c != Comparison::kNotWorse && c != Comparison::kBetter) continue;
    const double accuracy = record.served().accuracy();
    if (accuracy >= best_accuracy) {
      best = weights;
      best_accuracy = accuracy;
    }
  }
  return best;
}

Decision HealController::CheckHealth() {
  if (!Watching() || !lineage_since_row_) return {};
  const PairedOutcome record = Lineage(*lineage_since_row_);
  if (CompareToAnchor(record, config_.health) != Comparison::kWorse) return {};
  const uint64_t target = RollbackTarget();
  Decision d;
  d.action = target == 0 ? Action::kReturnToAnchor : Action::kRollback;
  d.target = target;
  d.reason = "health: the healed versions did worse than v0 on the same rows (" + DescribeAgainstAnchor(record) + "); " +
             (target == 0 ? std::string("back to v0: no other version of this episode passes on the rows it served")
                          : "back to v" + std::to_string(target) + ", the most accurate version of this episode that passes (" +
                                DescribeAgainstAnchor(episode_record_.at(target)) + ")");
  holdoff_until_row_ = rows_seen_ + config_.drift_gone_rows;
  return d;
}

Decision HealController::CheckDriftGone() {
  if (!drifting_ || !quiet_since_row_ || rows_seen_ - *quiet_since_row_ < config_.drift_gone_rows) return {};
  const std::string labels = LabelSignal(*quiet_since_row_);
  if (!labels.empty()) return {};  // the inputs look clean again, but labels since then say otherwise
  Decision d;
  const std::string quiet = "drift gone: no drift signal for " + std::to_string(rows_seen_ - *quiet_since_row_) + " rows";
  if (Watching() && lineage_since_row_) {
    // Only rows scored since the inputs looked clean again say how the version does now: labels of
    // the drifted rows arrive late, and a version that healed them is no evidence for the clean ones.
    const PairedOutcome record = Lineage(std::max(*lineage_since_row_, *quiet_since_row_));
    if (CompareToAnchor(record, config_.health) == Comparison::kBetter) {
      d.reason = quiet + "; v" + std::to_string(active_) + " kept: it beats v0 on the same recent rows (" +
                 DescribeAgainstAnchor(record) + ")";
      EndEpisode();
      return d;
    }
    d.action = Action::kReturnToAnchor;
    d.reason = quiet + "; back to v0 (" + (record.rows() ? DescribeAgainstAnchor(record) : "no labelled rows of the healed versions") + ")";
  } else {
    d.reason = quiet;
  }
  EndEpisode();
  return d;
}

Decision HealController::CheckHeal(int64_t now) {
  if (!drifting_ || config_.mode != HealMode::kAuto || pinned_ || heal_in_flight_) return {};
  if (active_origin_ == Origin::kOperator && active_weights_ != 0) return {};  // an operator's choice stands
  if (rows_seen_ < holdoff_until_row_) return {};
  if (rows_seen_ - onset_row_ < config_.min_rows) return {};
  // While the inputs look clean again, only labels scored since then justify another heal.
  if (quiet_since_row_ && LabelSignal(*quiet_since_row_).empty()) return {};
  if (last_attempt_time_ && now - *last_attempt_time_ < config_.cooldown) return {};
  if (last_attempt_row_ > onset_row_ && rows_seen_ - last_attempt_row_ < config_.reheal_rows) return {};
  Decision d;
  d.action = Action::kHeal;
  d.since_row = onset_row_;
  d.reason = drift_reason_ + "; " + std::to_string(rows_seen_ - onset_row_) + " rows since the onset";
  return d;
}

Decision HealController::Decide(int64_t now) {
  Decision d = CheckHealth();
  if (d.action != Action::kNone) return d;
  d = CheckDriftGone();
  if (d.action != Action::kNone || !d.reason.empty()) return d;
  return CheckHeal(now);
}

}  // namespace reflex::control
