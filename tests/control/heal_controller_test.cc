#define BOOST_TEST_MODULE control_heal_controller
#include <boost/test/unit_test.hpp>

#include "control/heal_controller.h"

using namespace reflex;
using namespace reflex::control;

namespace {

// A controller for a binary model with a clean prior of 0.2 and clean accuracy 0.9; batches of
// 100 rows; first heal after 300 rows; drift ends after 300 quiet rows.
ControllerConfig Config() {
  ControllerConfig c;
  c.clean_prior = 0.2;
  c.clean_accuracy = 0.9;
  c.min_rows = 300;
  c.reheal_rows = 100;
  c.drift_gone_rows = 300;
  c.label_window_rows = 2000;
  c.health.min_rows = 100;
  return c;
}

void Batch(HealController& hc, int64_t now, double z) { hc.ObserveDrift({now, 100, z, z, std::nullopt, std::nullopt}); }

// `rows` labelled rows where the version and version 0 agree except on `served_only` rows only the
// version got right and `anchor_only` rows only version 0 got right; 20% positives.
PairedOutcome Outcome(uint64_t rows, uint64_t served_only, uint64_t anchor_only) {
  PairedOutcome o;
  for (uint64_t i = 0; i < rows; ++i) {
    const bool positive = i % 5 == 0;
    bool served = positive, anchor = positive;
    if (i >= rows - served_only - anchor_only) {
      if (i < rows - anchor_only) anchor = !positive;  // only the version is right
      else served = !positive;                        // only version 0 is right
    }
    o.Add(served, anchor, positive);
  }
  return o;
}

// Drifts for three batches, heals at the first decision (the candidate becomes `version`), and
// serves one more drifted batch with it.
void DriftAndHeal(HealController& hc, int64_t& now, uint64_t version) {
  for (int i = 0; i < 3; ++i) Batch(hc, ++now, 3.0);
  Decision d = hc.Decide(now);
  BOOST_REQUIRE(d.action == Action::kHeal);
  hc.HealStarted(now);
  hc.HealFinished(version);
  Batch(hc, ++now, 3.0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(NoDriftMeansNoDecision) {
  HealController hc(Config());
  for (int64_t t = 1; t <= 20; ++t) {
    Batch(hc, t, 0.3);
    BOOST_CHECK(hc.Decide(t).action == Action::kNone);
  }
  BOOST_CHECK(!hc.drifting());
}

BOOST_AUTO_TEST_CASE(DriftHealsOnlyAfterMinRowsSinceTheOnsetAndOnlyOnRowsAfterIt) {
  HealController hc(Config());
  for (int64_t t = 1; t <= 5; ++t) Batch(hc, t, 0.2);  // 500 clean rows
  Batch(hc, 6, 2.0);
  BOOST_CHECK(hc.drifting());
  BOOST_CHECK_EQUAL(hc.onset_row(), 500u);
  BOOST_CHECK(hc.Decide(6).action == Action::kNone);  // 100 rows since the onset
  Batch(hc, 7, 2.0);
  BOOST_CHECK(hc.Decide(7).action == Action::kNone);  // 200
  Batch(hc, 8, 2.0);
  const Decision d = hc.Decide(8);                     // 300
  BOOST_CHECK(d.action == Action::kHeal);
  BOOST_CHECK_EQUAL(d.since_row, 500u);
}

BOOST_AUTO_TEST_CASE(NoSecondHealWhileOneIsInFlightOrBeforeNewRows) {
  HealController hc(Config());
  int64_t now = 0;
  for (int i = 0; i < 3; ++i) Batch(hc, ++now, 3.0);
  BOOST_REQUIRE(hc.Decide(now).action == Action::kHeal);
  hc.HealStarted(now);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);  // in flight
  hc.HealFinished(std::nullopt);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);  // no new row since the attempt
  Batch(hc, ++now, 3.0);
  BOOST_CHECK(hc.Decide(now).action == Action::kHeal);
}

BOOST_AUTO_TEST_CASE(RehealWaitsForRehealRowsAfterAnAttempt) {
  ControllerConfig c = Config();
  c.reheal_rows = 200;
  HealController hc(c);
  int64_t now = 0;
  for (int i = 0; i < 3; ++i) Batch(hc, ++now, 3.0);
  BOOST_REQUIRE(hc.Decide(now).action == Action::kHeal);
  hc.HealStarted(now);
  hc.HealFinished(std::nullopt);
  Batch(hc, ++now, 3.0);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);  // 100 < 200 new rows
  Batch(hc, ++now, 3.0);
  BOOST_CHECK(hc.Decide(now).action == Action::kHeal);  // 200
}

BOOST_AUTO_TEST_CASE(CooldownCountsInTheDriversClock) {
  ControllerConfig c = Config();
  c.cooldown = 1000;  // e.g. milliseconds
  HealController hc(c);
  int64_t now = 0;
  for (int i = 0; i < 3; ++i) Batch(hc, now += 10, 3.0);
  BOOST_REQUIRE(hc.Decide(now).action == Action::kHeal);
  hc.HealStarted(now);
  hc.HealFinished(std::nullopt);
  const int64_t attempt = now;
  Batch(hc, now = attempt + 999, 3.0);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);
  BOOST_CHECK(hc.Decide(attempt + 1000).action == Action::kHeal);
}

BOOST_AUTO_TEST_CASE(ManualFrozenAndPinnedMakeNoDecision) {
  for (int which = 0; which < 3; ++which) {
    HealController hc(Config());
    if (which == 0) hc.SetMode(HealMode::kManual);
    if (which == 1) hc.SetMode(HealMode::kFrozen);
    if (which == 2) hc.SetPinned(true);
    for (int64_t t = 1; t <= 10; ++t) {
      Batch(hc, t, 3.0);
      BOOST_CHECK(hc.Decide(t).action == Action::kNone);
    }
  }
}

BOOST_AUTO_TEST_CASE(AHealedVersionWorseThanVersionZeroOnTheSameRowsIsRolledBackToVersionZero) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  // 200 labelled rows: v1 right on 5 that v0 missed, v0 right on 25 that v1 missed (z = -3.65).
  hc.ObserveLabels({1, std::nullopt, Outcome(200, 5, 25)});
  const Decision d = hc.Decide(now);
  BOOST_CHECK(d.action == Action::kReturnToAnchor);
  BOOST_CHECK_EQUAL(d.target, 0u);
}

BOOST_AUTO_TEST_CASE(AHealedVersionJustInsideTheMcNemarBoundIsKept) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  // b = 10, c = 17: z = -1.35 > -1.64: not significantly worse; F1 drop small.
  hc.ObserveLabels({1, std::nullopt, Outcome(400, 10, 17)});
  BOOST_CHECK(hc.Decide(now).action != Action::kReturnToAnchor);
  BOOST_CHECK(hc.Decide(now).action != Action::kRollback);
  // b = 10, c = 22: z = -2.12: worse.
  HealController worse(Config());
  now = 0;
  DriftAndHeal(worse, now, 1);
  worse.ObserveLabels({1, std::nullopt, Outcome(400, 10, 22)});
  BOOST_CHECK(worse.Decide(now).action == Action::kReturnToAnchor);
}

BOOST_AUTO_TEST_CASE(AHealedVersionServingAtF1ZeroIsRolledBackEvenThoughItsOwnBaselineIsZero) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  // v1 flags nothing: every positive missed; v0 catches them all.
  PairedOutcome o;
  for (int i = 0; i < 300; ++i) o.Add(false, i % 5 == 0, i % 5 == 0);
  hc.ObserveLabels({1, std::nullopt, o});
  BOOST_CHECK(hc.Decide(now).action == Action::kReturnToAnchor);
}

BOOST_AUTO_TEST_CASE(HealthRollsBackToTheBestEarlierVersionThatPasses) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  hc.ObserveLabels({1, std::nullopt, Outcome(200, 30, 5)});  // v1 better than v0
  for (int i = 0; i < 2; ++i) Batch(hc, ++now, 3.0);
  Decision d = hc.Decide(now);
  BOOST_REQUIRE(d.action == Action::kHeal);
  hc.HealStarted(now);
  hc.HealFinished(2);
  Batch(hc, ++now, 3.0);
  // The lineage since v1 went live: v1's rows are good, v2's bad enough to sink the pooled record.
  hc.ObserveLabels({2, std::nullopt, Outcome(600, 5, 80)});
  d = hc.Decide(now);
  BOOST_CHECK(d.action == Action::kRollback);
  BOOST_CHECK_EQUAL(d.target, 1u);
  // The driver publishes v1's weights as v3; it is watched afresh.
  hc.ObserveActive(3, 1, Origin::kController);
  BOOST_CHECK_EQUAL(hc.active_weights(), 1u);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);
}

BOOST_AUTO_TEST_CASE(AnOperatorsVersionIsNeverUndoneAutomatically) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  hc.ObserveActive(2, 1, Origin::kOperator);  // e.g. reflexctl pin/rollback
  hc.ObserveLabels({2, std::nullopt, Outcome(300, 0, 60)});
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);
  for (int i = 0; i < 5; ++i) Batch(hc, ++now, 0.1);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);
}

BOOST_AUTO_TEST_CASE(WhenDriftEndsTheFleetReturnsToVersionZero) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  Batch(hc, ++now, 0.2);
  Batch(hc, ++now, 0.2);
  BOOST_CHECK(hc.Decide(now).action == Action::kNone);  // 200 quiet rows
  Batch(hc, ++now, 0.2);
  const Decision d = hc.Decide(now);  // 300
  BOOST_CHECK(d.action == Action::kReturnToAnchor);
  BOOST_CHECK(!hc.drifting());
}

BOOST_AUTO_TEST_CASE(WhenDriftEndsAHealedVersionThatBeatsVersionZeroOnRowsSinceThenIsKept) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  const uint64_t quiet_from = hc.rows_seen();
  Batch(hc, ++now, 0.2);
  // Labels of rows scored after the inputs looked clean again: v1 beats v0 on them.
  hc.ObserveLabels({1, quiet_from, Outcome(300, 40, 5)});
  for (int i = 0; i < 2; ++i) Batch(hc, ++now, 0.2);
  const Decision d = hc.Decide(now);
  BOOST_CHECK(d.action == Action::kNone);
  BOOST_CHECK(!d.reason.empty());
  BOOST_CHECK_EQUAL(hc.active_weights(), 1u);
  BOOST_CHECK(!hc.drifting());
}

BOOST_AUTO_TEST_CASE(LabelsOfTheDriftedRowsDoNotKeepAHealedVersionOnceTheDriftEnds) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  hc.ObserveLabels({1, std::nullopt, Outcome(300, 40, 5)});  // scored while drifted
  for (int i = 0; i < 3; ++i) Batch(hc, ++now, 0.2);
  BOOST_CHECK(hc.Decide(now).action == Action::kReturnToAnchor);
}

BOOST_AUTO_TEST_CASE(ANoisyBatchDoesNotEndTheDrift) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  Batch(hc, ++now, 0.2);
  Batch(hc, ++now, 0.2);
  Batch(hc, ++now, 3.0);  // drift again
  Batch(hc, ++now, 0.2);
  Batch(hc, ++now, 0.2);
  BOOST_CHECK(hc.Decide(now).action != Action::kReturnToAnchor);
}

BOOST_AUTO_TEST_CASE(LabelsThatShowVersionZeroDegradedStartAnEpisodeWithoutAnyLabelFreeSignal) {
  HealController hc(Config());
  int64_t now = 0;
  for (int i = 0; i < 5; ++i) Batch(hc, ++now, 0.1);
  // v0 at 0.70 accuracy on 200 rows against 0.90 clean: z = 9.4.
  PairedOutcome o;
  for (int i = 0; i < 200; ++i) o.Add(i < 60 ? i % 5 != 0 : i % 5 == 0, i < 60 ? i % 5 != 0 : i % 5 == 0, i % 5 == 0);
  hc.ObserveLabels({0, 300, o});
  Batch(hc, ++now, 0.1);
  BOOST_CHECK(hc.drifting());
  BOOST_CHECK(hc.drift_reason().find("labels") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(APriorEstimateAwayFromTheCleanPriorIsDrift) {
  HealController hc(Config());
  hc.ObserveDrift({1, 100, 0.1, 0.1, std::nullopt, 0.24});  // 0.04 from 0.2: inside the threshold
  BOOST_CHECK(!hc.drifting());
  hc.ObserveDrift({2, 100, 0.1, 0.1, std::nullopt, 0.26});  // 0.06: drift
  BOOST_CHECK(hc.drifting());
}

BOOST_AUTO_TEST_CASE(ConflictRateJustAboveTheThresholdIsDrift) {
  HealController hc(Config());
  hc.ObserveDrift({1, 100, 0.1, 0.1, 0.29, std::nullopt});
  BOOST_CHECK(!hc.drifting());
  hc.ObserveDrift({2, 100, 0.1, 0.1, 0.31, std::nullopt});
  BOOST_CHECK(hc.drifting());
}

BOOST_AUTO_TEST_CASE(AfterAHealthRollbackNoHealUntilTheHoldoffHasPassed) {
  HealController hc(Config());
  int64_t now = 0;
  DriftAndHeal(hc, now, 1);
  hc.ObserveLabels({1, std::nullopt, Outcome(200, 5, 40)});
  BOOST_REQUIRE(hc.Decide(now).action == Action::kReturnToAnchor);
  hc.ObserveActive(2, 0, Origin::kController);
  for (int i = 0; i < 2; ++i) {
    Batch(hc, ++now, 3.0);
    BOOST_CHECK(hc.Decide(now).action == Action::kNone);
  }
  Batch(hc, ++now, 3.0);
  BOOST_CHECK(hc.Decide(now).action == Action::kHeal);
}

BOOST_AUTO_TEST_CASE(APriorEstimateWithinItsNoiseIsNotDrift) {
  HealController hc(Config());
  // 0.08 from 0.2 with a standard error of 0.023: 3 of them are 0.069, so drift.
  hc.ObserveDrift({1, 100, 0.1, 0.1, std::nullopt, 0.28, 0.023});
  BOOST_CHECK(hc.drifting());
  // The same move with a standard error of 0.04 is inside 3 of them (0.12): not drift.
  HealController noisy(Config());
  noisy.ObserveDrift({1, 100, 0.1, 0.1, std::nullopt, 0.28, 0.04});
  BOOST_CHECK(!noisy.drifting());
}
