#include "core/health_monitor.h"

#include <cmath>
#include <cstdio>
#include <numeric>

namespace reflex {

namespace {

double Mean(const std::deque<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

void PushWindowed(std::deque<double>* values, double value, size_t window) {
  if (!std::isfinite(value)) return;
  values->push_back(value);
  while (values->size() > window) values->pop_front();
}

Confusion Sum(const std::deque<Confusion>& counts) {
  Confusion total;
  for (const Confusion& c : counts) total.Merge(c);
  return total;
}

// "mean accuracy 0.610 over 5 batches is 0.120 below baseline 0.730 (limit 0.100)"; pooled
// figures say "accuracy 0.610 of 5 batches' rows ...".
std::string Describe(const char* metric, double mean, size_t batches, double baseline,
                     double limit, bool pooled) {
  const double drop = baseline - mean;
  char text[200];
  if (drop > limit) {
    std::snprintf(text, sizeof(text),
                  pooled ? "%s %.3f over %zu batches' rows is %.3f below baseline %.3f (limit %.3f)"
                         : "mean %s %.3f over %zu batches is %.3f below baseline %.3f (limit %.3f)",
                  metric, mean, batches, drop, baseline, limit);
  } else {
    std::snprintf(text, sizeof(text),
                  pooled ? "%s %.3f over %zu batches' rows is within %.3f of baseline %.3f"
                         : "mean %s %.3f over %zu batches is within %.3f of baseline %.3f",
                  metric, mean, batches, limit, baseline);
  }
  return text;
}

}  // namespace

const char* HealthVerdictName(HealthVerdict verdict) {
  switch (verdict) {
    case HealthVerdict::kHealthy: return "healthy";
    case HealthVerdict::kDegraded: return "degraded";
    case HealthVerdict::kInsufficientData: return "insufficient data";
  }
  return "unknown";
}

HealthMonitor::HealthMonitor(HealthConfig config) : config_(config) {
  if (config_.window == 0) config_.window = 1;
}

void HealthMonitor::SetBaseline(double accuracy, double f1) {
  Reset();
  has_baseline_ = true;
  baseline_accuracy_ = accuracy;
  baseline_f1_ = f1;
}

void HealthMonitor::Observe(double accuracy, double f1) {
  PushWindowed(&accuracy_, accuracy, config_.window);
  PushWindowed(&f1_, f1, config_.window);
}

void HealthMonitor::ObserveCountsAgainst(const Confusion& version, const Confusion& reference) {
  if (!pooled_) {
    Reset();
    paired_ = pooled_ = true;
  }
  if (version.total() == 0 || reference.total() == 0) return;
  counts_.push_back(version);
  reference_counts_.push_back(reference);
  while (counts_.size() > config_.window) {
    counts_.pop_front();
    reference_counts_.pop_front();
  }
  // The per-batch deques keep the window's length (Check and Explain count batches there).
  PushWindowed(&accuracy_, version.accuracy(), config_.window);
  PushWindowed(&reference_accuracy_, reference.accuracy(), config_.window);
  PushWindowed(&f1_, version.f1(), config_.window);
  PushWindowed(&reference_f1_, reference.f1(), config_.window);
}

void HealthMonitor::ObserveAgainst(double accuracy, double f1, double reference_accuracy,
                                   double reference_f1) {
  if (!paired_ || pooled_) {
    Reset();
    paired_ = true;
  }
  if (std::isfinite(accuracy) && std::isfinite(reference_accuracy)) {
    PushWindowed(&accuracy_, accuracy, config_.window);
    PushWindowed(&reference_accuracy_, reference_accuracy, config_.window);
  }
  if (std::isfinite(f1) && std::isfinite(reference_f1)) {
    PushWindowed(&f1_, f1, config_.window);
    PushWindowed(&reference_f1_, reference_f1, config_.window);
  }
}

double HealthMonitor::BaselineAccuracy() const {
  if (pooled_) return Sum(reference_counts_).accuracy();
  return paired_ ? Mean(reference_accuracy_) : baseline_accuracy_;
}
double HealthMonitor::BaselineF1() const {
  if (!paired_) return baseline_f1_;
  if (pooled_) return Sum(reference_counts_).f1();
  return reference_f1_.empty() ? std::nan("") : Mean(reference_f1_);
}

double HealthMonitor::mean_accuracy() const { return pooled_ ? Sum(counts_).accuracy() : Mean(accuracy_); }
double HealthMonitor::mean_f1() const { return pooled_ ? Sum(counts_).f1() : Mean(f1_); }

bool HealthMonitor::AccuracyDegraded() const {
  return accuracy_.size() == config_.window &&
         mean_accuracy() < BaselineAccuracy() - config_.accuracy_drop;
}

bool HealthMonitor::F1Degraded() const {
  const double baseline = BaselineF1();
  return std::isfinite(baseline) && f1_.size() == config_.window &&
         mean_f1() < baseline - config_.f1_drop;
}

HealthVerdict HealthMonitor::Check() const {
  if (!has_baseline()) return HealthVerdict::kInsufficientData;
  if (AccuracyDegraded() || F1Degraded()) return HealthVerdict::kDegraded;
  if (accuracy_.size() < config_.window) return HealthVerdict::kInsufficientData;
  return HealthVerdict::kHealthy;
}

std::string HealthMonitor::Explain() const {
  if (!has_baseline()) return "no baseline set for the current version";
  const bool accuracy_full = accuracy_.size() == config_.window;
  const bool f1_full = f1_.size() == config_.window && std::isfinite(BaselineF1());
  if (!accuracy_full && !F1Degraded()) {
    return "only " + std::to_string(accuracy_.size()) + " of " +
           std::to_string(config_.window) + " batches observed since the baseline";
  }
  std::string accuracy_part;
  if (accuracy_full) {
    accuracy_part = Describe("accuracy", mean_accuracy(), accuracy_.size(), BaselineAccuracy(),
                             config_.accuracy_drop, pooled_);
  }
  std::string f1_part;
  if (f1_full) {
    f1_part = Describe("f1", mean_f1(), f1_.size(), BaselineF1(), config_.f1_drop, pooled_);
  } else {
    f1_part = "f1 has " + std::to_string(f1_.size()) + " of " + std::to_string(config_.window) +
              " defined values";
  }
  // Lead with what triggered the verdict.
  if (F1Degraded() && !AccuracyDegraded()) {
    return accuracy_part.empty() ? f1_part : f1_part + "; " + accuracy_part;
  }
  return accuracy_part + "; " + f1_part;
}

void HealthMonitor::Reset() {
  has_baseline_ = false;
  paired_ = false;
  pooled_ = false;
  counts_.clear();
  reference_counts_.clear();
  reference_accuracy_.clear();
  reference_f1_.clear();
  baseline_accuracy_ = 0;
  baseline_f1_ = 0;
  accuracy_.clear();
  f1_.clear();
}

uint64_t HealthyRollbackTarget(const std::map<uint64_t, ServedRecord>& records, uint64_t exclude, size_t min_rows,
                               const HealthConfig& config) {
  uint64_t target = 0;
  double best = -1;
  for (const auto& [version, record] : records) {
    if (version == 0 || version == exclude || record.served.total() < min_rows || record.served.total() == 0) continue;
    const bool passes = record.served.f1() >= record.reference.f1() - config.f1_drop &&
                        record.served.accuracy() >= record.reference.accuracy() - config.accuracy_drop;
    if (passes && record.served.accuracy() >= best) {  // ascending versions: >= keeps the newest tie
      best = record.served.accuracy();
      target = version;
    }
  }
  return target;
}

}  // namespace reflex
