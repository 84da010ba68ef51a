// The rollback trigger of the original experiment: labelled metrics of recent batches compared
// with the metrics the current version had when it went live.
//
// SetBaseline() records the accuracy and F1 of the version that just went live. Observe() adds
// one labelled batch. Check() says kDegraded when, over the last `window` batches, the mean
// accuracy fell more than `accuracy_drop` below the baseline or the mean F1 fell more than
// `f1_drop` below it; kInsufficientData until there is a baseline and `window` batches.
// Paired mode: ObserveAgainst() adds one labelled batch together with what a reference version
// (the deployed model, version 0, scored in shadow) did on the same rows; the baseline is then the
// reference's mean over the same window. Comparing on the same rows removes the batch-to-batch
// noise a fixed baseline carries (one batch of 100 rows with 15 positives moves F1 by ±0.1),
// which otherwise rolls back good versions. It needs no SetBaseline().
// Pooled paired mode: ObserveCountsAgainst() takes the confusion counts of the batch and of the
// reference on the same rows, and the window's accuracy and F1 are those of the summed counts.
// A mean of per-batch F1 values is biased against a version that flags few rows (a batch where it
// catches one positive of fifteen scores near 0, and a ratio's mean is not the ratio of the sums),
// so a sparse but sound version would be rolled back by the noise of small batches.
// Accuracy and F1 are windowed separately: a non-finite value (F1 of a batch with no positives,
// when the caller reports it as NaN) is not recorded, and the F1 test waits for `window` finite
// F1 values while the accuracy test may already decide.
//
// Ownership: a plain value. Thread-safety: none; one owner (the coordinator) calls it.
// Units: accuracy, F1 and the drops are fractions in [0, 1]; window counts batches (at least 1;
// a configured 0 is treated as 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "core/metrics.h"

namespace reflex {

struct HealthConfig {
  double f1_drop = 0.08;
  double accuracy_drop = 0.10;
  size_t window = 5;
};

enum class HealthVerdict { kHealthy, kDegraded, kInsufficientData };

const char* HealthVerdictName(HealthVerdict verdict);  // "healthy", "degraded", ...

class HealthMonitor {
 public:
  explicit HealthMonitor(HealthConfig config = {});

  // Performance when the current version went live; clears the window.
  void SetBaseline(double accuracy, double f1);
  // One batch's labelled metrics.
  void Observe(double accuracy, double f1);
  // One batch's labelled metrics and the reference's on the same rows (paired mode, above).
  void ObserveAgainst(double accuracy, double f1, double reference_accuracy, double reference_f1);
  // One batch's confusion counts and the reference's on the same rows (pooled paired mode).
  void ObserveCountsAgainst(const Confusion& version, const Confusion& reference);
  // See the header comment.
  HealthVerdict Check() const;
  // One line saying why Check() answers what it does, e.g.
  // "mean accuracy 0.610 over 5 batches is 0.120 below baseline 0.730 (limit 0.100)".
  std::string Explain() const;
  // Forgets the baseline and the window.
  void Reset();

  const HealthConfig& config() const { return config_; }
  bool has_baseline() const { return has_baseline_ || paired_; }
  size_t accuracy_observations() const { return accuracy_.size(); }  // at most window
  size_t f1_observations() const { return f1_.size(); }              // at most window
  double mean_accuracy() const;  // over the window; 0 when empty
  double mean_f1() const;        // over the window; 0 when empty

 private:
  bool AccuracyDegraded() const;
  bool F1Degraded() const;

  HealthConfig config_;
  bool has_baseline_ = false;
  double baseline_accuracy_ = 0;
  double baseline_f1_ = 0;
  bool paired_ = false;           // the baseline is the reference's mean over the window
  bool pooled_ = false;           // paired, and the window's figures come from summed counts
  std::deque<Confusion> counts_, reference_counts_;  // pooled mode, at most config_.window
  std::deque<double> accuracy_;  // newest at the back, at most config_.window
  std::deque<double> f1_;
  std::deque<double> reference_accuracy_;  // paired mode: same rows, reference version
  std::deque<double> reference_f1_;
  double BaselineAccuracy() const;
  double BaselineF1() const;
};

// What one post-heal version did on the labelled rows it served, and what the reference
// (version 0, in shadow) did on the same rows: summed over every batch it served.
struct ServedRecord {
  Confusion served, reference;
};

// The target of a health rollback while the drift is still on: the most accurate post-heal
// version (>= 1, not `exclude`, the version being rolled back) whose served record covers at
// least `min_rows` labelled rows and passes the monitor's own test against the reference on them
// (F1 not more than f1_drop below, accuracy not more than accuracy_drop below). 0 (the deployed
// model) when none passes. Ties go to the newest version.
uint64_t HealthyRollbackTarget(const std::map<uint64_t, ServedRecord>& records, uint64_t exclude, size_t min_rows,
                               const HealthConfig& config);

}  // namespace reflex
