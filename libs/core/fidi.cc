#include "core/fidi.h"

#include <algorithm>
#include <limits>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>

#include "core/welford.h"

namespace reflex {

namespace {

void Die(const std::string& what) {
  std::cerr << "FidiMonitor: " << what << "\n";
  std::abort();
}

}  // namespace

Result<FidiMonitor> FidiMonitor::Calibrate(const float* rows, size_t n_rows, size_t dims,
                                           std::vector<size_t> monitored, FidiConfig config) {
  if (n_rows == 0) {
    return Status::InvalidArgument("FIDI calibration needs at least one clean row, got 0");
  }
  if (dims == 0) {
    return Status::InvalidArgument("FIDI calibration needs at least one feature, got 0 dims");
  }
  if (config.window == 0) {
    return Status::InvalidArgument("FIDI window must hold at least one batch, got window 0");
  }
  if (monitored.empty()) {
    for (size_t i = 0; i < dims; ++i) monitored.push_back(i);
  }
  for (size_t index : monitored) {
    if (index >= dims) {
      return Status::InvalidArgument("FIDI monitored feature index " + std::to_string(index) +
                                     " is out of range: rows have " + std::to_string(dims) +
                                     " features");
    }
  }

  FeatureStats stats(dims);
  stats.AddRows(rows, n_rows);

  FidiCalibration calibration;
  for (size_t index : monitored) {
    const RunningStats& s = stats.feature(index);
    const double sd = s.stddev();
    if (!(sd > 0.0) || !std::isfinite(sd) || !std::isfinite(s.mean)) {
      return Status::InvalidArgument(
          "FIDI cannot monitor feature " + std::to_string(index) + ": its standard deviation on " +
          std::to_string(n_rows) + " clean rows is " + std::to_string(sd) +
          " (mean " + std::to_string(s.mean) + "); z needs a finite, non-zero spread");
    }
    calibration.monitored.push_back(index);
    calibration.mean.push_back(s.mean);
    calibration.stddev.push_back(sd);
  }
  return FidiMonitor(std::move(calibration), dims, config);
}

FidiMonitor::FidiMonitor(FidiCalibration calibration, size_t dims, FidiConfig config)
    : calibration_(std::move(calibration)), dims_(dims), config_(config) {
  const size_t k = calibration_.monitored.size();
  if (calibration_.mean.size() != k || calibration_.stddev.size() != k) {
    Die("calibration vectors differ in length (monitored " + std::to_string(k) + ", mean " +
        std::to_string(calibration_.mean.size()) + ", stddev " +
        std::to_string(calibration_.stddev.size()) + ")");
  }
  for (size_t j = 0; j < k; ++j) {
    if (calibration_.monitored[j] >= dims_) {
      Die("monitored index " + std::to_string(calibration_.monitored[j]) + " >= dims " +
          std::to_string(dims_));
    }
    if (!(calibration_.stddev[j] > 0.0)) {
      Die("stddev of feature " + std::to_string(calibration_.monitored[j]) + " is not positive");
    }
  }
  if (config_.window == 0) Die("window is 0");
}

void FeatureClip::Apply(const float* rows, size_t n, std::vector<float>* out) const {
  const size_t cols = lo.size();
  out->resize(n * cols);
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < cols; ++c) (*out)[r * cols + c] = std::clamp(rows[r * cols + c], lo[c], hi[c]);
  }
}

FeatureClip FidiClipBounds(const FidiCalibration& calibration, size_t dims) {
  FeatureClip clip;
  clip.lo.assign(dims, -std::numeric_limits<float>::infinity());
  clip.hi.assign(dims, std::numeric_limits<float>::infinity());
  for (size_t j = 0; j < calibration.monitored.size() && j < calibration.mean.size() && j < calibration.stddev.size();
       ++j) {
    const size_t c = calibration.monitored[j];
    if (c >= dims) continue;
    const double band = kFidiClipSd * calibration.stddev[j];
    clip.lo[c] = static_cast<float>(calibration.mean[j] - band);
    clip.hi[c] = static_cast<float>(calibration.mean[j] + band);
  }
  return clip;
}

FidiReading FidiMonitor::Observe(const float* rows, size_t n_rows) {
  if (n_rows == 0) return Current();
  const size_t k = calibration_.monitored.size();
  std::vector<double> sums(k, 0.0);
  for (size_t r = 0; r < n_rows; ++r) {
    const float* row = rows + r * dims_;
    for (size_t j = 0; j < k; ++j) {
      const double band = kFidiClipSd * calibration_.stddev[j];
      const double mu = calibration_.mean[j];
      sums[j] += std::clamp(static_cast<double>(row[calibration_.monitored[j]]), mu - band, mu + band);
    }
  }
  for (double& s : sums) s /= static_cast<double>(n_rows);
  window_.push_back(std::move(sums));
  while (window_.size() > config_.window) window_.pop_front();
  return Current();
}

FidiReading FidiMonitor::Current() const {
  const size_t k = calibration_.monitored.size();
  FidiReading reading;
  reading.z.assign(k, 0.0);
  reading.batches = window_.size();
  if (k > 0) reading.max_feature = calibration_.monitored[0];
  if (window_.empty()) return reading;

  for (const std::vector<double>& batch_means : window_) {
    for (size_t j = 0; j < k; ++j) reading.z[j] += batch_means[j];
  }
  const double batches = static_cast<double>(window_.size());
  for (size_t j = 0; j < k; ++j) {
    const double window_mean = reading.z[j] / batches;
    reading.z[j] = std::abs(window_mean - calibration_.mean[j]) / calibration_.stddev[j];
    if (reading.z[j] > reading.max_z) {
      reading.max_z = reading.z[j];
      reading.max_feature = calibration_.monitored[j];
    }
  }
  reading.drift = reading.batches >= config_.min_batches && reading.max_z > config_.threshold;
  return reading;
}

void FidiMonitor::Reset() { window_.clear(); }

}  // namespace reflex
