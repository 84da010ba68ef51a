#include "actors/drift_accumulator.h"

#include <algorithm>
#include <chrono>

namespace reflex::actors {
namespace {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* LabelResultName(DriftAccumulator::LabelResult result) {
  switch (result) {
    case DriftAccumulator::LabelResult::kJoined: return "joined";
    case DriftAccumulator::LabelResult::kUnknownRequest: return "unknown request";
    case DriftAccumulator::LabelResult::kBadRow: return "row out of range";
    case DriftAccumulator::LabelResult::kDuplicate: return "duplicate";
    case DriftAccumulator::LabelResult::kTooLate: return "too late";
    case DriftAccumulator::LabelResult::kBadLabel: return "not a class of the model";
  }
  return "?";
}

DriftAccumulator::DriftAccumulator(size_t cols, std::shared_ptr<const RuleSet> rules, size_t sample_rows,
                                   size_t cache_rows, uint64_t seed, AnchorScorer anchor, size_t classes)
    : cols_(cols),
      rules_(std::move(rules)),
      sample_capacity_(sample_rows),
      cache_capacity_rows_(cache_rows),
      classes_(std::max<size_t>(1, classes)),
      stats_(cols),
      rng_(seed),
      window_start_ms_(NowUnixMs()),
      anchor_(std::move(anchor)) {
  const size_t n_rules = rules_ ? rules_->size() : 0;
  fired_.assign(n_rules, 0);
  conflicts_.assign(n_rules, 0);
  if (classes_ >= 2) class_counts_.assign(classes_, 0);
}

uint8_t DriftAccumulator::Predicted(const float* outputs) const {
  if (classes_ == 1) return outputs[0] >= 0.5f ? 1 : 0;
  return static_cast<uint8_t>(std::max_element(outputs, outputs + classes_) - outputs);  // the first on ties
}

void DriftAccumulator::SetFeatureClip(FeatureClip clip) {
  std::lock_guard<std::mutex> lock(mu_);
  if (clip.lo.size() == cols_ && clip.hi.size() == cols_) clip_ = std::move(clip);
}

void DriftAccumulator::Record(uint64_t request_id, const float* rows, size_t n, const float* probs,
                              uint64_t version) {
  if (n == 0) return;
  RuleSet::BatchStats rule_stats;  // outside the lock
  if (rules_ && !rules_->empty()) {
    if (classes_ >= 2 && rules_->multiclass()) rule_stats = rules_->EvaluateClasses(rows, n, probs);
    else if (classes_ == 1 && !rules_->multiclass()) rule_stats = rules_->Evaluate(rows, n, probs, 0.5);
  }
  std::vector<uint8_t> predicted(n);
  for (size_t i = 0; i < n; ++i) predicted[i] = Predicted(probs + i * classes_);
  std::vector<float> clipped;
  if (!clip_.empty()) clip_.Apply(rows, n, &clipped);  // outside the lock; clip_ is set before Record
  std::lock_guard<std::mutex> lock(mu_);
  stats_.AddRows(clip_.empty() ? rows : clipped.data(), n);
  for (size_t r = 0; r < rule_stats.fired.size() && r < fired_.size(); ++r) {
    fired_[r] += rule_stats.fired[r];
    conflicts_[r] += rule_stats.conflicts[r];
  }
  for (size_t i = 0; i < n; ++i) {
    if (classes_ == 1) positives_ += predicted[i];
    else ++class_counts_[predicted[i]];
    // Reservoir sampling (Algorithm R) over the window's rows.
    ++sample_seen_;
    if (sample_.size() < sample_capacity_ * cols_) {
      sample_.insert(sample_.end(), rows + i * cols_, rows + (i + 1) * cols_);
    } else if (sample_capacity_ > 0) {
      const size_t j = std::uniform_int_distribution<size_t>(0, sample_seen_ - 1)(rng_);
      if (j < sample_capacity_) std::copy(rows + i * cols_, rows + (i + 1) * cols_, sample_.begin() + j * cols_);
    }
  }
  window_rows_ += n;
  totals_.rows += n;

  if (cache_capacity_rows_ == 0 || n > cache_capacity_rows_) return;
  Remembered& entry = cache_[request_id];  // a reused id replaces the older request
  if (!entry.rows.empty()) cache_rows_ -= entry.predicted.size();
  else cache_order_.push_back(request_id);
  entry.rows.assign(rows, rows + n * cols_);
  entry.predicted = std::move(predicted);
  entry.labelled.assign(n, false);
  entry.version = version;
  cache_rows_ += n;
  while (cache_rows_ > cache_capacity_rows_ && !cache_order_.empty()) {
    auto it = cache_.find(cache_order_.front());
    cache_order_.pop_front();
    if (it == cache_.end()) continue;
    const uint64_t evicted_id = it->first;
    cache_rows_ -= it->second.predicted.size();
    cache_.erase(it);
    RememberEvicted(evicted_id);
  }
}

void DriftAccumulator::RememberEvicted(uint64_t request_id) {
  if (!evicted_.insert(request_id).second) return;
  evicted_order_.push_back(request_id);
  if (evicted_order_.size() > kEvictedMemory) {
    evicted_.erase(evicted_order_.front());
    evicted_order_.pop_front();
  }
}

DriftAccumulator::LabelResult DriftAccumulator::Label(uint64_t request_id, uint32_t row, uint8_t label) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(request_id);
  if (it == cache_.end()) {
    if (evicted_.count(request_id)) return LabelResult::kTooLate;
    ++totals_.labels_unknown;
    return LabelResult::kUnknownRequest;
  }
  Remembered& entry = it->second;
  if (row >= entry.predicted.size()) return LabelResult::kBadRow;
  if (label >= std::max<size_t>(2, classes_) || label > 127) return LabelResult::kBadLabel;
  if (entry.labelled[row]) return LabelResult::kDuplicate;
  entry.labelled[row] = true;
  labelled_rows_.insert(labelled_rows_.end(), entry.rows.begin() + row * cols_, entry.rows.begin() + (row + 1) * cols_);
  labelled_labels_.push_back(static_cast<int8_t>(label));
  labelled_version_.push_back(entry.version);
  ++totals_.labels_joined;
  if (classes_ >= 2) {  // K-class: whether the served version was right (version 0's turn is at Drain)
    labelled_served_positive_.push_back(entry.predicted[row] == label ? 1 : 0);
    return LabelResult::kJoined;
  }
  const bool predicted = entry.predicted[row] != 0;
  labelled_served_positive_.push_back(predicted ? 1 : 0);
  auto& o = outcomes_[entry.version];
  if (label && predicted) ++o[0];
  else if (!label && predicted) ++o[1];
  else if (!label && !predicted) ++o[2];
  else ++o[3];
  return LabelResult::kJoined;
}

uint64_t DriftAccumulator::pending_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return window_rows_;
}

DriftAccumulator::Totals DriftAccumulator::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

wire::DriftSummary DriftAccumulator::Drain(const std::string& replica_id, uint64_t served_version,
                                           int64_t now_unix_ms) {
  wire::DriftSummary s;
  std::vector<uint8_t> served_positive;  // per joined labelled row, for the shadow score below
  std::vector<uint64_t> versions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.replica_id = replica_id;
    s.window_start_unix_ms = window_start_ms_;
    s.window_end_unix_ms = now_unix_ms;
    s.rows_scored = window_rows_;
    s.served_version = served_version;
    s.features = stats_.features();
    s.rule_fired = fired_;
    s.rule_conflicts = conflicts_;
    s.cols = static_cast<uint32_t>(cols_);
    s.positives = positives_;
    s.class_counts = class_counts_;
    // The window's sample (label unknown), then the rows whose labels arrived in this window.
    s.sample_rows = std::move(sample_);
    s.sample_labels.assign(s.sample_rows.size() / (cols_ ? cols_ : 1), -1);
    s.sample_rows.insert(s.sample_rows.end(), labelled_rows_.begin(), labelled_rows_.end());
    s.sample_labels.insert(s.sample_labels.end(), labelled_labels_.begin(), labelled_labels_.end());
    for (const auto& [version, o] : outcomes_) {
      if (version != served_version) {
        totals_.labels_other_version += o[0] + o[1] + o[2] + o[3];
        continue;
      }
      s.label_tp = o[0];
      s.label_fp = o[1];
      s.label_tn = o[2];
      s.label_fn = o[3];
    }

    stats_ = FeatureStats(cols_);
    std::fill(fired_.begin(), fired_.end(), 0);
    std::fill(conflicts_.begin(), conflicts_.end(), 0);
    window_rows_ = positives_ = 0;
    std::fill(class_counts_.begin(), class_counts_.end(), 0);
    window_start_ms_ = now_unix_ms;
    sample_.clear();
    sample_seen_ = 0;
    labelled_rows_.clear();
    labelled_labels_.clear();
    served_positive.swap(labelled_served_positive_);
    versions.swap(labelled_version_);
    outcomes_.clear();
  }
  // Version 0 in shadow runs after the lock is released: scoring workers record rows meanwhile.
  if (anchor_ && cols_ > 0) AddAnchorFigures(served_positive, versions, &s);
  return s;
}

void DriftAccumulator::AddAnchorFigures(const std::vector<uint8_t>& served_positive,
                                        const std::vector<uint64_t>& versions, wire::DriftSummary* s) const {
  const size_t n_sample = s->sample_labels.size() - versions.size();
  const size_t n = s->sample_labels.size();
  if (n == 0) return;
  std::vector<float> probs(n * classes_);
  anchor_(s->sample_rows.data(), n, probs.data());
  if (classes_ == 1) {
    s->sample_anchor_probs.assign(probs.begin(), probs.begin() + n_sample);
  } else {
    s->anchor_class_counts.assign(classes_, 0);
    for (size_t i = 0; i < n_sample; ++i) ++s->anchor_class_counts[Predicted(probs.data() + i * classes_)];
  }
  control::PairedOutcome outcome;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i] != s->served_version) continue;
    const uint8_t anchor = Predicted(probs.data() + (n_sample + i) * classes_);
    const int8_t truth = s->sample_labels[n_sample + i];
    if (classes_ >= 2) outcome.AddCorrect(served_positive[i] != 0, anchor == truth);
    else outcome.Add(served_positive[i] != 0, anchor != 0, truth == 1);
  }
  if (outcome.rows() > 0) s->label_cells = outcome.ToCells();
}

}  // namespace reflex::actors
