// DriftWindow: the coordinator's merged view of the fleet's recent drift (docs/DESIGN.md §2, §4).
//
// It keeps the last `summaries_per_replica` drift summaries of every replica and merges them
// exactly (Welford merges: the merged mean and variance equal those of all the rows pooled). The
// reading compares the merged mean of each monitored feature with its clean calibration:
// z = |mean - clean mean| / clean sd (FIDI over the window), plus the rule-conflict rate and the
// positive rate of the window. Separately it keeps the most recent `row_capacity` sample rows
// (with their labels when known, -1 otherwise) that the next heal learns from; labelled rows are
// kept in their own ring so that a burst of unlabelled rows cannot push them out.
//
// Plain value owned by the coordinator actor; not thread-safe. Units: rows, z in clean standard
// deviations, rates in [0, 1].
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/fidi.h"
#include "core/status.h"
#include "core/welford.h"
#include "wire/messages.h"

namespace reflex::actors {

struct DriftReading {
  uint64_t rows = 0;            // rows in the merged window
  double max_z = 0;             // FIDI max z over monitored features
  size_t max_feature = 0;       // column index of that feature
  double conflict_rate = 0;     // rule conflicts / rows
  double positive_rate = 0;     // rows scored >= 0.5 / rows
  size_t summaries = 0;
  // K-class models: the merged predicted-class counts of the served versions (class_counts) and
  // of version 0 on the unlabelled sample rows (anchor_class_counts); empty for binary models.
  std::vector<uint64_t> class_counts, anchor_class_counts;
};

// Total variation between the distribution of `counts` and `clean` (0 when counts are all 0).
double ClassCountsTv(const std::vector<uint64_t>& counts, const std::vector<double>& clean);

// FIDI over per-feature statistics: the largest |mean - clean mean| / clean sd over the monitored
// features that have rows, and the column it is on (0 when none has rows).
double MaxFidiZ(const FidiCalibration& calibration, const std::vector<RunningStats>& features, size_t* max_feature);

class DriftWindow {
 public:
  DriftWindow(FidiCalibration calibration, size_t cols, size_t summaries_per_replica, size_t row_capacity);

  // Merges one summary: AddStatistics, then AddRows. InvalidArgument (nothing of the summary is
  // used) when its width or rule count does not match the fleet's.
  Status Add(const wire::DriftSummary& summary);
  // The two halves of Add, for a caller that must look at the reading in between (drift onset
  // clears the rows sampled before the drift, but not the rows of the summary that showed it).
  Status AddStatistics(const wire::DriftSummary& summary);
  void AddRows(const wire::DriftSummary& summary);
  // Rows kept in each ring (labelled, unlabelled); the oldest leave first when it shrinks.
  void SetRowCapacity(size_t rows);
  void Forget(const std::string& replica_id);  // a replica left
  void Clear();                                // forget everything (windows and rows)
  // Forgets the sampled rows (not the statistics): at drift onset they describe the old world.
  void ClearRows();

  DriftReading Reading() const;
  size_t rule_count() const { return rule_count_; }

  // The rows a heal learns from: the labelled ring, then the newest unlabelled rows, at most
  // `max_rows` in all; labels -1 where unknown.
  void HealRows(size_t max_rows, std::vector<float>* rows, std::vector<int8_t>* labels) const;
  size_t labelled_rows() const { return labelled_labels_.size(); }
  size_t sample_rows() const { return unlabelled_.size() / (cols_ ? cols_ : 1); }

  // Labelled rows received so far (monotonic; the ring may hold fewer).
  uint64_t labelled_seen() const { return labelled_seen_; }

 private:
  struct Window {
    std::vector<RunningStats> features;
    uint64_t rows = 0, conflicts = 0, positives = 0;
    std::vector<uint64_t> class_counts, anchor_class_counts;
  };
  void Trim();  // enforces row_capacity_

  FidiCalibration calibration_;
  size_t cols_;
  size_t per_replica_;
  size_t row_capacity_;
  size_t rule_count_ = SIZE_MAX;  // fixed by the first summary with rules
  std::map<std::string, std::deque<Window>> windows_;
  std::deque<float> unlabelled_;  // row-major, newest at the back
  std::deque<float> labelled_;
  std::deque<int8_t> labelled_labels_;
  uint64_t labelled_seen_ = 0;
};

}  // namespace reflex::actors
