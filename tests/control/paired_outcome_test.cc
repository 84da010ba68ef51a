#define BOOST_TEST_MODULE control_paired_outcome
#include <boost/test/unit_test.hpp>

#include "control/paired_outcome.h"

using namespace reflex::control;

namespace {

// `b` rows only the version got right, `c` only version 0, `same` rows both got right (negatives).
PairedOutcome Discordant(uint64_t b, uint64_t c, uint64_t same) {
  PairedOutcome o;
  for (uint64_t i = 0; i < b; ++i) o.Add(true, false, true);
  for (uint64_t i = 0; i < c; ++i) o.Add(false, true, true);
  for (uint64_t i = 0; i < same; ++i) o.Add(false, false, false);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(McNemarZCountsOnlyTheDiscordantRows) {
  BOOST_CHECK_CLOSE(Discordant(16, 9, 100).McNemarZ(), 7.0 / 5.0, 1e-9);
  BOOST_CHECK_EQUAL(Discordant(0, 0, 100).McNemarZ(), 0.0);
}

BOOST_AUTO_TEST_CASE(TooFewRowsGiveNoVerdict) {
  PairedTest t;
  t.min_rows = 100;
  BOOST_CHECK(CompareToAnchor(Discordant(0, 50, 49), t) == Comparison::kInsufficient);
  BOOST_CHECK(CompareToAnchor(Discordant(0, 50, 50), t) == Comparison::kWorse);
}

BOOST_AUTO_TEST_CASE(AccuracyIsWorseJustOutsideTheOneSidedBound) {
  PairedTest t;
  t.use_f1 = false;
  t.min_rows = 1;
  // z = (b - c) / sqrt(b + c): (10 - 19) / sqrt(29) = -1.671 (outside -1.64); (10 - 18) / sqrt(28) = -1.512.
  BOOST_CHECK(CompareToAnchor(Discordant(10, 19, 200), t) == Comparison::kWorse);
  BOOST_CHECK(CompareToAnchor(Discordant(10, 18, 200), t) == Comparison::kNotWorse);
  BOOST_CHECK(CompareToAnchor(Discordant(19, 10, 200), t) == Comparison::kBetter);
}

BOOST_AUTO_TEST_CASE(F1IsWorseOnlyWhenItsUpperBoundIsBeyondTheDrop) {
  PairedTest t;
  t.min_rows = 1;
  t.z = 1.64;
  // 1000 rows, 200 positives. Version 0 catches 150 of them, the version `caught`; both flag 20
  // negatives; the version is right on the negatives version 0 gets wrong, so accuracy differs by
  // the positives only.
  auto make = [](int caught) {
    PairedOutcome o;
    for (int i = 0; i < 200; ++i) o.Add(i < caught, i < 150, true);
    for (int i = 0; i < 800; ++i) o.Add(i < 20, i < 20, false);
    return o;
  };
  const PairedOutcome far = make(60), near = make(120);
  BOOST_TEST_MESSAGE("far: d " << far.F1Difference() << " se " << far.F1DifferenceSe());
  BOOST_TEST_MESSAGE("near: d " << near.F1Difference() << " se " << near.F1DifferenceSe());
  t.z = 100;  // accuracy never decides below: only F1 can
  t.use_f1 = true;
  BOOST_CHECK(far.F1Difference() + 1.64 * far.F1DifferenceSe() < -t.f1_drop);
  BOOST_CHECK(near.F1Difference() + 1.64 * near.F1DifferenceSe() > -t.f1_drop);
  t.z = 1.64;
  PairedTest f1_only = t;
  BOOST_CHECK(CompareToAnchor(far, f1_only) == Comparison::kWorse);
}

BOOST_AUTO_TEST_CASE(TheF1StandardErrorOfIdenticalPredictionsIsZero) {
  PairedOutcome o;
  for (int i = 0; i < 100; ++i) o.Add(i % 3 == 0, i % 3 == 0, i % 4 == 0);
  BOOST_CHECK_SMALL(o.F1Difference(), 1e-12);
  BOOST_CHECK_SMALL(o.F1DifferenceSe(), 1e-12);
}

BOOST_AUTO_TEST_CASE(CellsRoundTripInTheWiresOrderAndGiveBothConfusions) {
  PairedOutcome o;
  o.Add(true, false, true);    // truth 1, served 1, v0 0: index 6
  o.Add(false, false, false);  // index 0
  o.Add(false, true, false);   // truth 0, served 0, v0 1: index 1
  const std::vector<uint64_t> cells = o.ToCells();
  BOOST_CHECK((cells == std::vector<uint64_t>{1, 1, 0, 0, 0, 0, 1, 0}));
  const PairedOutcome back = PairedOutcome::FromCells(cells);
  BOOST_CHECK(back.ToCells() == cells);
  BOOST_CHECK_EQUAL(back.served().tp, 1u);
  BOOST_CHECK_EQUAL(back.served().tn, 2u);
  BOOST_CHECK_EQUAL(back.anchor().fn, 1u);
  BOOST_CHECK_EQUAL(back.anchor().fp, 1u);
  BOOST_CHECK_EQUAL(back.rows(), 3u);
  BOOST_CHECK_EQUAL(PairedOutcome::FromCells({1, 2, 3}).rows(), 0u);
}
