// DriftAccumulator: what a replica learns from the rows it scores, between two drift summaries.
//
// Per window (reset by Drain): Welford statistics of every feature, rule firings and conflicts
// (rule outcome vs the model's prediction at 0.5), rows scored >= 0.5, and a uniform reservoir
// sample of the rows. Across windows: a bounded cache of recent requests (id -> rows, predicted
// class, version) so a delayed label can be joined to the row it labels; joined rows are sent
// with the next summary (label 0/1) and counted as true/false positives/negatives of the version
// that scored them.
// K-class models (`classes` >= 2, outputs K probabilities per row): the window counts each
// row's predicted class (argmax; class_counts) instead of positives, class rules are evaluated
// on the K probabilities, a label is a class id below K, and the paired outcome against version
// 0 counts right/wrong (PairedOutcome::AddCorrect); version 0's predicted classes of the
// unlabelled sample go in anchor_class_counts.
//
// Thread-safety: every method takes an internal mutex; Record() is called by scoring worker
// threads, Label() by the scoring server's I/O thread, Drain() by the replica actor (its shadow
// scoring with version 0 runs outside the mutex).
// Units: rows are float32, `cols` per row; the cache is bounded in rows (oldest requests leave
// first).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/fidi.h"
#include "core/rules.h"
#include "control/paired_outcome.h"
#include "core/welford.h"
#include "wire/messages.h"

namespace reflex::actors {

class DriftAccumulator {
 public:
  // Scores rows with version 0 (the deployed model) into outputs_per_row() probabilities per row
  // (one for a binary model, K for a K-class one); may be empty.
  using AnchorScorer = std::function<void(const float* rows, size_t n, float* probs)>;

  // With `anchor`, Drain also scores the window's joined labelled rows and unlabelled sample rows
  // with version 0 in shadow (label_cells, sample_anchor_probs or anchor_class_counts), outside
  // the hot path. `classes`: 1 for a binary model, K >= 2 for a K-class one.
  DriftAccumulator(size_t cols, std::shared_ptr<const RuleSet> rules, size_t sample_rows, size_t cache_rows,
                   uint64_t seed, AnchorScorer anchor = nullptr, size_t classes = 1);

  // Winsorises every row to `clip` before it enters the feature statistics (core/fidi.h:
  // FidiClipBounds), so a few outlier rows cannot move the fleet's FIDI; rules, the sample and
  // the label cache keep the rows as scored. Empty (the default): no clipping. Call before Record.
  void SetFeatureClip(FeatureClip clip);

  // One scored request: n rows (row-major), their outputs (n x outputs_per_row()) and the
  // version that scored them.
  void Record(uint64_t request_id, const float* rows, size_t n, const float* probs, uint64_t version);
  size_t outputs_per_row() const { return classes_; }

  // kTooLate: the request was remembered but has left the bounded cache (the last
  // kEvictedMemory evicted request ids are kept to tell this apart from kUnknownRequest).
  // kBadLabel: not a class of the model (binary: above 1; K-class: K or more).
  enum class LabelResult { kJoined, kUnknownRequest, kBadRow, kDuplicate, kTooLate, kBadLabel };
  static constexpr size_t kEvictedMemory = 65536;
  // Joins a delayed label to a remembered row.
  LabelResult Label(uint64_t request_id, uint32_t row, uint8_t label);

  // Rows recorded since the last Drain.
  uint64_t pending_rows() const;
  // Ends the window: a summary of it (features, rules, sample, joined labels and their outcome
  // counts for `served_version`), and starts the next one.
  wire::DriftSummary Drain(const std::string& replica_id, uint64_t served_version, int64_t now_unix_ms);

  struct Totals {
    uint64_t rows = 0, labels_joined = 0, labels_unknown = 0, labels_other_version = 0;
  };
  Totals totals() const;

 private:
  struct Remembered {
    std::vector<float> rows;
    std::vector<uint8_t> predicted;  // per row: positive 0/1, or the K-class argmax
    std::vector<bool> labelled;
    uint64_t version = 0;
  };

  // Version 0's probabilities of the summary's sample rows, and the joint counts of its joined
  // labelled rows (the last versions.size() sample rows; those served_version scored). Reads only
  // `s` and the const anchor_: Drain calls it after releasing the lock.
  void AddAnchorFigures(const std::vector<uint8_t>& served_positive, const std::vector<uint64_t>& versions,
                        wire::DriftSummary* s) const;
  // The row's predicted class: argmax of K probabilities, or P(positive) >= 0.5.
  uint8_t Predicted(const float* outputs) const;

  const size_t cols_;
  const std::shared_ptr<const RuleSet> rules_;
  const size_t sample_capacity_;
  const size_t cache_capacity_rows_;
  const size_t classes_;  // outputs per row: 1 binary, K >= 2 K-class

  mutable std::mutex mu_;
  FeatureStats stats_;
  FeatureClip clip_;  // set once before Record (SetFeatureClip)
  std::vector<uint64_t> fired_, conflicts_;
  uint64_t window_rows_ = 0, positives_ = 0;
  std::vector<uint64_t> class_counts_;  // K-class: rows per predicted class this window
  int64_t window_start_ms_ = 0;
  std::vector<float> sample_;  // reservoir, row-major
  size_t sample_seen_ = 0;
  std::mt19937_64 rng_;
  const AnchorScorer anchor_;
  std::vector<float> labelled_rows_;
  std::vector<int8_t> labelled_labels_;
  std::vector<uint8_t> labelled_served_positive_;  // per joined row: what its version said (K-class: right?)
  std::vector<uint64_t> labelled_version_;         // per joined row: the version that scored it
  // Outcomes of joined labels per version that scored the row: tp, fp, tn, fn.
  std::unordered_map<uint64_t, std::array<uint64_t, 4>> outcomes_;
  std::unordered_map<uint64_t, Remembered> cache_;
  std::deque<uint64_t> cache_order_;
  size_t cache_rows_ = 0;
  std::unordered_set<uint64_t> evicted_;     // ids that left the cache, the newest kEvictedMemory
  std::deque<uint64_t> evicted_order_;       // oldest first
  void RememberEvicted(uint64_t request_id);  // with mu_ held
  Totals totals_;
};

const char* LabelResultName(DriftAccumulator::LabelResult result);

}  // namespace reflex::actors
