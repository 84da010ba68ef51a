// FIDI, the Feature Drift Indicator: an unlabelled drift signal from feature means.
//
// Calibration records the clean mean mu and standard deviation sigma of each monitored
// feature. Each observed batch contributes one mean per monitored feature to a rolling window
// of the last `window` batches; the indicator of a feature is
//     z = |mean(batch means in the window) - mu| / sigma
// and drift is flagged when at least `min_batches` batches are in the window and the largest z
// exceeds `threshold`. The window mean is unweighted: every batch counts the same whatever its
// size (as in the original experiment).
//
// Robust to outliers: every monitored value is winsorised to the clean band
// [mu - kFidiClipSd * sigma, mu + kFidiClipSd * sigma] before it enters a batch mean, so one row
// moves a mean by at most kFidiClipSd clean sds / rows: a share p of poisoned rows (float32-max,
// 1e6) moves z by at most p * kFidiClipSd, and exceeding the threshold t needs a share above
// t / kFidiClipSd of the rows (25% at t = 1), whatever the values. A real shift still reads up
// to kFidiClipSd (well above any threshold in use); clean data loses almost nothing (the clean
// mass beyond 4 sd is under 1% even for an exponential feature). Replicas clip their drift
// statistics with the same band (FidiClipBounds), so the cluster and reflex-sim agree.
//
// Ownership: FidiMonitor is a value (copyable, movable) that owns its calibration and window.
// Thread-safety: none; one owner (one actor) at a time. Units: z is in clean standard
// deviations of its feature; rows are row-major float matrices with dims() columns and must be
// finite (a NaN makes that feature's z NaN, which never counts as drift).
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "core/status.h"

namespace reflex {

// Half-width of the winsorising band, in clean standard deviations.
constexpr double kFidiClipSd = 4.0;

// Per-column bounds of a row (lo[c] <= hi[c]); columns that are not monitored are unbounded.
struct FeatureClip {
  std::vector<float> lo, hi;
  bool empty() const { return lo.empty(); }
  // Copies n rows of lo.size() columns into `out`, each value clamped to its column's band.
  void Apply(const float* rows, size_t n, std::vector<float>* out) const;
};

struct FidiConfig {
  size_t window = 10;      // batch means kept; the oldest leaves when a new one arrives
  double threshold = 1.0;  // drift when max z > threshold
  size_t min_batches = 3;  // no drift verdict until this many batches are in the window
};

// Clean statistics, one entry per monitored feature (parallel vectors).
struct FidiCalibration {
  std::vector<size_t> monitored;  // column indices into the row
  std::vector<double> mean;       // clean mean of each monitored column
  std::vector<double> stddev;     // clean population standard deviation, > 0
};

struct FidiReading {
  std::vector<double> z;   // per monitored feature: |mean(window of batch means) - mu| / sigma
  double max_z = 0;        // the drift score
  size_t max_feature = 0;  // index into the ROW (not into monitored) of the feature with max z
  size_t batches = 0;      // batch means currently in the window
  bool drift = false;      // batches >= min_batches && max_z > threshold
};

// The winsorising band of every column of a `dims`-wide row for this calibration.
FeatureClip FidiClipBounds(const FidiCalibration& calibration, size_t dims);

class FidiMonitor {
 public:
  // Calibrates from clean rows (row-major n_rows x dims). `monitored` empty means all features.
  // InvalidArgument when n_rows or dims is 0, a monitored index is >= dims, config.window is 0,
  // or a monitored feature has zero (or non-finite) standard deviation on the clean rows.
  static Result<FidiMonitor> Calibrate(const float* rows, size_t n_rows, size_t dims,
                                       std::vector<size_t> monitored, FidiConfig config);

  // Builds a monitor from a known calibration (e.g. received from the coordinator). The
  // calibration must be consistent (parallel vectors, indices < dims, stddev > 0) and
  // config.window > 0; a broken one aborts, since Calibrate is the checked path.
  FidiMonitor(FidiCalibration calibration, size_t dims, FidiConfig config);

  // Pushes this batch's mean per monitored feature and returns the reading after it.
  // An empty batch (n_rows == 0) pushes nothing and returns Current().
  FidiReading Observe(const float* rows, size_t n_rows);
  // The reading for the current window, without pushing. An empty window reads z = 0.
  FidiReading Current() const;
  // Empties the window (e.g. after a heal, so old batches do not keep flagging drift).
  void Reset();

  const FidiCalibration& calibration() const { return calibration_; }
  const FidiConfig& config() const { return config_; }
  size_t dims() const { return dims_; }

 private:
  FidiCalibration calibration_;
  size_t dims_;
  FidiConfig config_;
  // Oldest batch first; each entry has one mean per monitored feature.
  std::deque<std::vector<double>> window_;
};

}  // namespace reflex
