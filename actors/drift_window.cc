#include "actors/drift_window.h"

#include <algorithm>
#include <cmath>

namespace reflex::actors {

DriftWindow::DriftWindow(FidiCalibration calibration, size_t cols, size_t summaries_per_replica, size_t row_capacity)
    : calibration_(std::move(calibration)),
      cols_(cols),
      per_replica_(std::max<size_t>(1, summaries_per_replica)),
      row_capacity_(row_capacity) {}

Status DriftWindow::Add(const wire::DriftSummary& s) {
  REFLEX_RETURN_IF_ERROR(AddStatistics(s));
  AddRows(s);
  return Status();
}

void DriftWindow::SetRowCapacity(size_t rows) {
  row_capacity_ = rows;
  Trim();
}

Status DriftWindow::AddStatistics(const wire::DriftSummary& s) {
  if (s.cols != cols_) {
    return Status::InvalidArgument("drift summary from " + s.replica_id + ": " + std::to_string(s.cols) +
                                   " columns, the model takes " + std::to_string(cols_));
  }
  if (!s.features.empty() && s.features.size() != cols_) {
    return Status::InvalidArgument("drift summary from " + s.replica_id + ": statistics for " +
                                   std::to_string(s.features.size()) + " features, expected " + std::to_string(cols_));
  }
  if (rule_count_ != SIZE_MAX && s.rule_conflicts.size() != rule_count_ && s.rows_scored > 0) {
    return Status::InvalidArgument("drift summary from " + s.replica_id + ": " + std::to_string(s.rule_conflicts.size()) +
                                   " rules, the fleet has " + std::to_string(rule_count_));
  }
  if (s.rows_scored > 0 && rule_count_ == SIZE_MAX) rule_count_ = s.rule_conflicts.size();

  if (s.rows_scored > 0) {
    Window w;
    w.features = s.features;
    w.rows = s.rows_scored;
    for (uint64_t c : s.rule_conflicts) w.conflicts += c;
    w.positives = s.positives;
    w.class_counts = s.class_counts;
    w.anchor_class_counts = s.anchor_class_counts;
    auto& q = windows_[s.replica_id];
    q.push_back(std::move(w));
    while (q.size() > per_replica_) q.pop_front();
  }
  return Status();
}

void DriftWindow::AddRows(const wire::DriftSummary& s) {
  if (s.cols != cols_) return;
  const size_t n = cols_ ? s.sample_rows.size() / cols_ : 0;
  for (size_t i = 0; i < n && i < s.sample_labels.size(); ++i) {
    const float* row = s.sample_rows.data() + i * cols_;
    if (s.sample_labels[i] >= 0) {
      labelled_.insert(labelled_.end(), row, row + cols_);
      labelled_labels_.push_back(s.sample_labels[i]);
      ++labelled_seen_;
    } else {
      unlabelled_.insert(unlabelled_.end(), row, row + cols_);
    }
  }
  Trim();
}

void DriftWindow::Trim() {
  while (labelled_labels_.size() > row_capacity_) {
    labelled_labels_.pop_front();
    labelled_.erase(labelled_.begin(), labelled_.begin() + static_cast<ptrdiff_t>(cols_));
  }
  while (unlabelled_.size() > row_capacity_ * cols_) {
    unlabelled_.erase(unlabelled_.begin(), unlabelled_.begin() + static_cast<ptrdiff_t>(cols_));
  }
}

void DriftWindow::Forget(const std::string& replica_id) { windows_.erase(replica_id); }

void DriftWindow::ClearRows() {
  unlabelled_.clear();
  labelled_.clear();
  labelled_labels_.clear();
}

void DriftWindow::Clear() {
  windows_.clear();
  unlabelled_.clear();
  labelled_.clear();
  labelled_labels_.clear();
}

double MaxFidiZ(const FidiCalibration& calibration, const std::vector<RunningStats>& features, size_t* max_feature) {
  double max_z = 0;
  *max_feature = 0;
  for (size_t i = 0; i < calibration.monitored.size(); ++i) {
    const size_t c = calibration.monitored[i];
    if (c >= features.size() || features[c].count == 0) continue;
    const double z = std::abs(features[c].mean - calibration.mean[i]) / calibration.stddev[i];
    if (z > max_z) {
      max_z = z;
      *max_feature = c;
    }
  }
  return max_z;
}

double ClassCountsTv(const std::vector<uint64_t>& counts, const std::vector<double>& clean) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  double tv = 0;
  for (size_t c = 0; c < std::max(counts.size(), clean.size()); ++c) {
    const double rate = c < counts.size() ? static_cast<double>(counts[c]) / static_cast<double>(total) : 0.0;
    tv += std::abs(rate - (c < clean.size() ? clean[c] : 0.0));
  }
  return 0.5 * tv;
}

DriftReading DriftWindow::Reading() const {
  DriftReading r;
  std::vector<RunningStats> merged(cols_);
  uint64_t conflicts = 0, positives = 0;
  for (const auto& [id, q] : windows_) {
    for (const Window& w : q) {
      for (size_t c = 0; c < cols_ && c < w.features.size(); ++c) merged[c].Merge(w.features[c]);
      r.rows += w.rows;
      conflicts += w.conflicts;
      positives += w.positives;
      ++r.summaries;
      for (auto [from, to] : {std::pair{&w.class_counts, &r.class_counts}, {&w.anchor_class_counts, &r.anchor_class_counts}}) {
        if (to->size() < from->size()) to->resize(from->size(), 0);
        for (size_t c = 0; c < from->size(); ++c) (*to)[c] += (*from)[c];
      }
    }
  }
  if (r.rows == 0) return r;
  r.conflict_rate = static_cast<double>(conflicts) / static_cast<double>(r.rows);
  r.positive_rate = static_cast<double>(positives) / static_cast<double>(r.rows);
  r.max_z = MaxFidiZ(calibration_, merged, &r.max_feature);
  return r;
}

void DriftWindow::HealRows(size_t max_rows, std::vector<float>* rows, std::vector<int8_t>* labels) const {
  rows->clear();
  labels->clear();
  const size_t labelled = std::min(max_rows, labelled_labels_.size());
  const size_t first_labelled = labelled_labels_.size() - labelled;  // the newest ones
  for (size_t i = first_labelled; i < labelled_labels_.size(); ++i) {
    rows->insert(rows->end(), labelled_.begin() + static_cast<ptrdiff_t>(i * cols_),
                 labelled_.begin() + static_cast<ptrdiff_t>((i + 1) * cols_));
    labels->push_back(labelled_labels_[i]);
  }
  const size_t have = cols_ ? unlabelled_.size() / cols_ : 0;
  const size_t take = std::min(have, max_rows - labelled);
  for (size_t i = have - take; i < have; ++i) {
    rows->insert(rows->end(), unlabelled_.begin() + static_cast<ptrdiff_t>(i * cols_),
                 unlabelled_.begin() + static_cast<ptrdiff_t>((i + 1) * cols_));
    labels->push_back(-1);
  }
}

}  // namespace reflex::actors
