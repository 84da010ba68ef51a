#define BOOST_TEST_MODULE core_health_monitor
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "core/health_monitor.h"

using namespace reflex;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(InsufficientDataWithoutBaselineOrFullWindow) {
  HealthMonitor monitor;
  for (int i = 0; i < 10; ++i) monitor.Observe(0.1, 0.1);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
  BOOST_TEST(Contains(monitor.Explain(), "no baseline"));

  monitor.SetBaseline(0.9, 0.7);
  for (int i = 0; i < 4; ++i) {
    monitor.Observe(0.2, 0.1);
    BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
  }
  BOOST_TEST(Contains(monitor.Explain(), "only 4 of 5 batches"), monitor.Explain());
  monitor.Observe(0.2, 0.1);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
}

BOOST_AUTO_TEST_CASE(HealthyWhileMeansStayWithinLimits) {
  HealthMonitor monitor;
  monitor.SetBaseline(0.73, 0.60);
  // Mean accuracy 0.64 (0.09 below, limit 0.10); mean f1 0.53 (0.07 below, limit 0.08).
  const double accuracy[5] = {0.60, 0.68, 0.64, 0.62, 0.66};
  const double f1[5] = {0.50, 0.56, 0.53, 0.52, 0.54};
  for (int i = 0; i < 5; ++i) monitor.Observe(accuracy[i], f1[i]);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kHealthy);
  BOOST_TEST(Contains(monitor.Explain(), "within"), monitor.Explain());
}

BOOST_AUTO_TEST_CASE(DegradedWhenMeanAccuracyDropsMoreThanItsLimit) {
  HealthMonitor monitor;
  monitor.SetBaseline(0.73, 0.60);
  for (int i = 0; i < 5; ++i) monitor.Observe(0.61, 0.60);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
  BOOST_TEST(monitor.Explain() ==
                 "mean accuracy 0.610 over 5 batches is 0.120 below baseline 0.730 (limit 0.100); "
                 "mean f1 0.600 over 5 batches is within 0.080 of baseline 0.600",
             monitor.Explain());
}

BOOST_AUTO_TEST_CASE(DegradedWhenMeanF1DropsMoreThanItsLimit) {
  HealthMonitor monitor({/*f1_drop=*/0.08, /*accuracy_drop=*/0.10, /*window=*/3});
  monitor.SetBaseline(0.90, 0.70);
  for (int i = 0; i < 3; ++i) monitor.Observe(0.90, 0.60);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
  BOOST_TEST(Contains(monitor.Explain(), "mean f1 0.600 over 3 batches is 0.100 below"),
             monitor.Explain());
}

BOOST_AUTO_TEST_CASE(OnlyTheLastWindowOfBatchesCounts) {
  HealthMonitor monitor;
  monitor.SetBaseline(0.90, 0.70);
  for (int i = 0; i < 5; ++i) monitor.Observe(0.40, 0.20);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
  for (int i = 0; i < 4; ++i) monitor.Observe(0.90, 0.70);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);  // one bad batch still in the window
  monitor.Observe(0.90, 0.70);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kHealthy);
  BOOST_TEST(monitor.accuracy_observations() == 5u);
  BOOST_TEST(std::abs(monitor.mean_accuracy() - 0.90) < 1e-12);
}

BOOST_AUTO_TEST_CASE(NewBaselineClearsTheWindowAndResetForgetsIt) {
  HealthMonitor monitor;
  monitor.SetBaseline(0.90, 0.70);
  for (int i = 0; i < 5; ++i) monitor.Observe(0.40, 0.20);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
  monitor.SetBaseline(0.45, 0.25);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
  for (int i = 0; i < 5; ++i) monitor.Observe(0.40, 0.20);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kHealthy);
  monitor.Reset();
  BOOST_TEST(!monitor.has_baseline());
  BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
}

BOOST_AUTO_TEST_CASE(UndefinedF1IsNotCountedButAccuracyStillDecides) {
  HealthMonitor monitor;
  monitor.SetBaseline(0.90, 0.70);
  for (int i = 0; i < 5; ++i) monitor.Observe(0.88, std::nan(""));
  BOOST_TEST(monitor.f1_observations() == 0u);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kHealthy);
  BOOST_TEST(Contains(monitor.Explain(), "f1 has 0 of 5 defined values"), monitor.Explain());
  for (int i = 0; i < 5; ++i) monitor.Observe(0.50, std::nan(""));
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
}

BOOST_AUTO_TEST_CASE(ZeroWindowIsTreatedAsOne) {
  HealthMonitor monitor({0.08, 0.10, 0});
  BOOST_TEST(monitor.config().window == 1u);
  monitor.SetBaseline(0.9, 0.7);
  monitor.Observe(0.5, 0.7);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
}

BOOST_AUTO_TEST_CASE(PairedModeJudgesAgainstTheReferenceOnTheSameRows) {
  HealthMonitor monitor;
  BOOST_TEST(!monitor.has_baseline());
  // The data got harder for everyone: both fall, the healed version stays ahead of version 0.
  for (int i = 0; i < 5; ++i) monitor.ObserveAgainst(0.60, 0.20, 0.45, 0.22);
  BOOST_TEST(monitor.has_baseline());
  BOOST_CHECK(monitor.Check() == HealthVerdict::kHealthy);
  // Same batches, but the healed version lost F1 against version 0 on them.
  for (int i = 0; i < 5; ++i) monitor.ObserveAgainst(0.80, 0.05, 0.45, 0.25);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);
  BOOST_TEST(Contains(monitor.Explain(), "mean f1 0.050 over 5 batches is 0.200 below baseline 0.250"), monitor.Explain());
}

BOOST_AUTO_TEST_CASE(PairedModeWaitsForAFullWindowAndSkipsUndefinedF1) {
  HealthMonitor monitor;
  for (int i = 0; i < 4; ++i) monitor.ObserveAgainst(0.30, 0.0, 0.90, 0.70);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
  monitor.ObserveAgainst(0.30, std::nan(""), 0.90, 0.70);
  BOOST_TEST(monitor.f1_observations() == 4u);
  BOOST_CHECK(monitor.Check() == HealthVerdict::kDegraded);  // accuracy decides with 5 batches
  monitor.SetBaseline(0.30, 0.0);  // a fixed baseline ends paired mode and clears the window
  BOOST_CHECK(monitor.Check() == HealthVerdict::kInsufficientData);
}
