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

BOOST_AUTO_TEST_CASE(PooledModeJudgesSummedCountsNotTheMeanOfBatchF1s) {
  // The version flags sparingly: it catches all 3 positives of the first batch and misses the one
  // positive of each of the next four (per-batch F1 1, 0, 0, 0, 0: mean 0.2). Version 0 scores
  // F1 0.5 on every batch. Summed, the version caught 3 of 7 with no false positive (F1 0.6).
  reflex::Confusion first{3, 0, 97, 0}, later{0, 0, 99, 1};
  reflex::Confusion ref_first{1, 0, 97, 2}, ref_later{1, 2, 97, 0};
  HealthMonitor mean_of_f1s;
  mean_of_f1s.ObserveAgainst(first.accuracy(), first.f1(), ref_first.accuracy(), ref_first.f1());
  for (int i = 0; i < 4; ++i) mean_of_f1s.ObserveAgainst(later.accuracy(), later.f1(), ref_later.accuracy(), ref_later.f1());
  BOOST_CHECK(mean_of_f1s.Check() == HealthVerdict::kDegraded);
  HealthMonitor pooled;
  pooled.ObserveCountsAgainst(first, ref_first);
  for (int i = 0; i < 4; ++i) pooled.ObserveCountsAgainst(later, ref_later);
  BOOST_TEST(pooled.mean_f1() == 0.6, boost::test_tools::tolerance(1e-12));
  BOOST_CHECK(pooled.Check() == HealthVerdict::kHealthy);
  BOOST_TEST(Contains(pooled.Explain(), "f1 0.600 over 5 batches' rows is within 0.080 of baseline 0.500"), pooled.Explain());
  // The window slides: four more batches where the version misses everything version 0 catches.
  reflex::Confusion missed{0, 0, 98, 2}, caught{2, 0, 98, 0};
  for (int i = 0; i < 4; ++i) pooled.ObserveCountsAgainst(missed, caught);
  BOOST_CHECK(pooled.Check() == HealthVerdict::kDegraded);
  BOOST_TEST(Contains(pooled.Explain(), "below baseline"), pooled.Explain());
}

BOOST_AUTO_TEST_CASE(HealthRollbackGoesToTheMostAccuratePostHealVersionThatPassesOnItsOwnRows) {
  // Confusion{tp, fp, tn, fn}. Version 0 on every record's rows: F1 0.5, accuracy 0.75.
  const reflex::Confusion reference{20, 30, 100, 10};
  std::map<uint64_t, reflex::ServedRecord> records;
  records[1] = {{15, 20, 110, 15}, reference};  // F1 0.46, accuracy 0.78: passes
  records[2] = {{14, 8, 122, 16}, reference};   // F1 0.54, accuracy 0.85: passes, more accurate
  records[3] = {{5, 0, 130, 25}, reference};    // F1 0.29, accuracy 0.84: F1 more than 0.08 below, fails
  records[4] = {{1, 0, 9, 0}, {1, 0, 9, 0}};    // perfect but only 10 rows
  const reflex::HealthConfig config;
  BOOST_TEST(reflex::HealthyRollbackTarget(records, 3, 100, config) == 2u);
  // The version being rolled back is never its own target.
  BOOST_TEST(reflex::HealthyRollbackTarget(records, 2, 100, config) == 1u);
  // Enough rows is part of passing.
  BOOST_TEST(reflex::HealthyRollbackTarget(records, 3, 5, config) == 4u);
  // None passes: the deployed model.
  records.erase(1);
  records.erase(2);
  BOOST_TEST(reflex::HealthyRollbackTarget(records, 3, 100, config) == 0u);
  BOOST_TEST(reflex::HealthyRollbackTarget({}, 0, 100, config) == 0u);
}
