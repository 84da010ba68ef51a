#include "core/metrics.h"

namespace reflex {

namespace {

double Ratio(uint64_t numerator, uint64_t denominator) {
  if (denominator == 0) return 0.0;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

void Confusion::Add(bool predicted_positive, bool actual_positive) {
  if (predicted_positive) {
    ++(actual_positive ? tp : fp);
  } else {
    ++(actual_positive ? fn : tn);
  }
}

void Confusion::Merge(const Confusion& other) {
  tp += other.tp;
  fp += other.fp;
  tn += other.tn;
  fn += other.fn;
}

double Confusion::accuracy() const { return Ratio(tp + tn, total()); }
double Confusion::precision() const { return Ratio(tp, tp + fp); }
double Confusion::recall() const { return Ratio(tp, tp + fn); }
double Confusion::f1() const { return Ratio(2 * tp, 2 * tp + fp + fn); }
double Confusion::positive_rate() const { return Ratio(tp + fp, total()); }

}  // namespace reflex
