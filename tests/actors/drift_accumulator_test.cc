#define BOOST_TEST_MODULE actors_drift_accumulator
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "actors/drift_accumulator.h"
#include "core/rules.h"

// Boost.Test prints label results by name in failed checks.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<reflex::actors::DriftAccumulator::LabelResult> {
  void operator()(std::ostream& os, reflex::actors::DriftAccumulator::LabelResult r) {
    os << reflex::actors::LabelResultName(r);
  }
};
}  // namespace boost::test_tools::tt_detail

namespace reflex::actors {
namespace {

namespace tt = boost::test_tools;
using LabelResult = DriftAccumulator::LabelResult;

constexpr size_t kCols = 3;

std::shared_ptr<const RuleSet> Rules() {
  auto rules = RuleSet::Parse("rule f0_high: f0 > 1 => positive\n", {"f0", "f1", "f2"});
  BOOST_REQUIRE_MESSAGE(rules.ok(), rules.status().ToString());
  return std::make_shared<const RuleSet>(*rules);
}

// Row i of a test matrix: distinct, easy to recognise values.
std::vector<float> RowsFrom(size_t first, size_t n) {
  std::vector<float> rows;
  for (size_t i = first; i < first + n; ++i) {
    rows.push_back(static_cast<float>(i));
    rows.push_back(static_cast<float>(i) * 0.5f - 3.0f);
    rows.push_back(static_cast<float>((i * 7) % 5));
  }
  return rows;
}

// Two-pass reference: count, mean and population M2 of column c.
RunningStats Reference(const std::vector<float>& rows, size_t c) {
  RunningStats s;
  const size_t n = rows.size() / kCols;
  s.count = n;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += rows[i * kCols + c];
  s.mean = sum / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double d = rows[i * kCols + c] - s.mean;
    s.m2 += d * d;
  }
  return s;
}

BOOST_AUTO_TEST_CASE(DrainGivesExactPerFeatureStatsRulesAndPositives) {
  DriftAccumulator acc(kCols, Rules(), 100, 1000, 7);
  const std::vector<float> a = {0.5f, 1.0f, -2.0f,   // rule silent
                                2.0f, 3.0f, 4.0f,    // rule fires, model says 0.1: conflict
                                1.5f, -1.0f, 0.0f};  // rule fires, model says 0.5: agrees
  const std::vector<float> pa = {0.9f, 0.1f, 0.5f};
  const std::vector<float> b = {-4.0f, 8.0f, 0.25f, 1.0f, 0.0f, 0.0f};  // rule silent (f0 == 1)
  const std::vector<float> pb = {0.49f, 0.2f};
  acc.Record(1, a.data(), 3, pa.data(), 4);
  acc.Record(2, b.data(), 2, pb.data(), 4);
  BOOST_TEST(acc.pending_rows() == 5u);

  const wire::DriftSummary s = acc.Drain("replica-a", 4, 123456);
  std::vector<float> all = a;
  all.insert(all.end(), b.begin(), b.end());
  BOOST_TEST(s.replica_id == "replica-a");
  BOOST_TEST(s.rows_scored == 5u);
  BOOST_TEST(s.served_version == 4u);
  BOOST_TEST(s.cols == kCols);
  BOOST_TEST(s.window_end_unix_ms == 123456);
  BOOST_TEST(s.positives == 2u);  // 0.9 and exactly 0.5
  BOOST_REQUIRE_EQUAL(s.features.size(), kCols);
  for (size_t c = 0; c < kCols; ++c) {
    const RunningStats want = Reference(all, c);
    BOOST_TEST_CONTEXT("column " << c) {
      BOOST_TEST(s.features[c].count == want.count);
      BOOST_TEST(s.features[c].mean == want.mean, tt::tolerance(1e-12));
      BOOST_TEST(s.features[c].m2 == want.m2, tt::tolerance(1e-12));
    }
  }
  BOOST_REQUIRE_EQUAL(s.rule_fired.size(), 1u);
  BOOST_REQUIRE_EQUAL(s.rule_conflicts.size(), 1u);
  BOOST_TEST(s.rule_fired[0] == 2u);
  BOOST_TEST(s.rule_conflicts[0] == 1u);
  BOOST_TEST(s.label_tp + s.label_fp + s.label_tn + s.label_fn == 0u);
}

BOOST_AUTO_TEST_CASE(ReservoirKeepsAtMostSampleRowsOfTheRecordedRows) {
  DriftAccumulator acc(kCols, nullptr, 4, 0, 11);
  const std::vector<float> rows = RowsFrom(0, 100);
  const std::vector<float> probs(100, 0.3f);
  for (size_t i = 0; i < 100; i += 10) acc.Record(i, rows.data() + i * kCols, 10, probs.data(), 0);
  const wire::DriftSummary s = acc.Drain("r", 0, 1);
  BOOST_TEST(s.rows_scored == 100u);
  BOOST_REQUIRE_EQUAL(s.sample_rows.size(), 4 * kCols);
  BOOST_REQUIRE_EQUAL(s.sample_labels.size(), 4u);
  std::set<float> seen;
  for (size_t i = 0; i < 4; ++i) {
    BOOST_TEST(s.sample_labels[i] == -1);
    const float id = s.sample_rows[i * kCols];
    // Every sampled row is one of the recorded rows, whole, and no row is sampled twice.
    BOOST_TEST_REQUIRE(id >= 0.0f);
    BOOST_TEST_REQUIRE(id < 100.0f);
    const std::vector<float> want = RowsFrom(static_cast<size_t>(id), 1);
    const std::vector<float> got(s.sample_rows.begin() + i * kCols, s.sample_rows.begin() + (i + 1) * kCols);
    BOOST_TEST(got == want, tt::per_element());
    BOOST_TEST(seen.insert(id).second);
  }

  // Fewer rows than the capacity: all of them, in order.
  const std::vector<float> two = RowsFrom(500, 2);
  acc.Record(1000, two.data(), 2, probs.data(), 0);
  const wire::DriftSummary s2 = acc.Drain("r", 0, 2);
  BOOST_TEST(s2.sample_rows == two, tt::per_element());

  // No reservoir at all.
  DriftAccumulator none(kCols, nullptr, 0, 0, 1);
  none.Record(1, rows.data(), 100, probs.data(), 0);
  const wire::DriftSummary s3 = none.Drain("r", 0, 1);
  BOOST_TEST(s3.sample_rows.empty());
  BOOST_TEST(s3.sample_labels.empty());
  BOOST_TEST(s3.rows_scored == 100u);
}

BOOST_AUTO_TEST_CASE(LabelsJoinByRequestAndRowAndCountOutcomesOfTheServedVersionOnly) {
  DriftAccumulator acc(kCols, nullptr, 0, 1000, 3);
  const std::vector<float> rows = RowsFrom(10, 4);
  const std::vector<float> probs = {0.9f, 0.2f, 0.7f, 0.1f};
  acc.Record(41, rows.data(), 4, probs.data(), 3);
  const std::vector<float> other = RowsFrom(20, 1);
  const float other_prob = 0.9f;
  acc.Record(42, other.data(), 1, &other_prob, 2);

  BOOST_TEST(acc.Label(41, 0, 1) == LabelResult::kJoined);  // predicted 1, truly 1: tp
  BOOST_TEST(acc.Label(41, 1, 1) == LabelResult::kJoined);  // predicted 0, truly 1: fn
  BOOST_TEST(acc.Label(41, 2, 0) == LabelResult::kJoined);  // predicted 1, truly 0: fp
  BOOST_TEST(acc.Label(41, 3, 0) == LabelResult::kJoined);  // predicted 0, truly 0: tn
  BOOST_TEST(acc.Label(42, 0, 1) == LabelResult::kJoined);  // scored by v2, not the served v3

  const wire::DriftSummary s = acc.Drain("r", 3, 5);
  BOOST_TEST(s.label_tp == 1u);
  BOOST_TEST(s.label_fn == 1u);
  BOOST_TEST(s.label_fp == 1u);
  BOOST_TEST(s.label_tn == 1u);
  // The joined rows travel with the summary, in the order they were labelled, with their labels.
  BOOST_REQUIRE_EQUAL(s.sample_labels.size(), 5u);
  BOOST_REQUIRE_EQUAL(s.sample_rows.size(), 5 * kCols);
  const std::vector<int8_t> want_labels = {1, 1, 0, 0, 1};
  BOOST_TEST(s.sample_labels == want_labels, tt::per_element());
  std::vector<float> want_rows = RowsFrom(10, 4);
  want_rows.insert(want_rows.end(), other.begin(), other.end());
  BOOST_TEST(s.sample_rows == want_rows, tt::per_element());

  const DriftAccumulator::Totals t = acc.totals();
  BOOST_TEST(t.labels_joined == 5u);
  BOOST_TEST(t.labels_other_version == 1u);
  BOOST_TEST(t.labels_unknown == 0u);
}

BOOST_AUTO_TEST_CASE(UnknownRequestDuplicateAndBadRowAreRefused) {
  DriftAccumulator acc(kCols, nullptr, 0, 1000, 3);
  const std::vector<float> rows = RowsFrom(0, 2);
  const std::vector<float> probs = {0.9f, 0.1f};
  acc.Record(7, rows.data(), 2, probs.data(), 0);

  BOOST_TEST(acc.Label(8, 0, 1) == LabelResult::kUnknownRequest);
  BOOST_TEST(acc.totals().labels_unknown == 1u);
  BOOST_TEST(acc.Label(7, 2, 1) == LabelResult::kBadRow);
  BOOST_TEST(acc.Label(7, 1, 0) == LabelResult::kJoined);
  BOOST_TEST(acc.Label(7, 1, 0) == LabelResult::kDuplicate);
  BOOST_TEST(acc.Label(7, 1, 1) == LabelResult::kDuplicate);  // a changed mind is still a duplicate
  // The cache outlives the window: still a duplicate after a drain.
  acc.Drain("r", 0, 1);
  BOOST_TEST(acc.Label(7, 1, 1) == LabelResult::kDuplicate);
  BOOST_TEST(acc.Label(7, 0, 1) == LabelResult::kJoined);
  BOOST_TEST(acc.totals().labels_joined == 2u);
  BOOST_TEST(std::string(LabelResultName(LabelResult::kDuplicate)) == "duplicate");
}

BOOST_AUTO_TEST_CASE(CacheIsBoundedInRowsAndForgetsTheOldestRequestFirstWhoseLabelsAreThenTooLate) {
  DriftAccumulator acc(kCols, nullptr, 0, 5, 3);
  const std::vector<float> rows = RowsFrom(0, 6);
  const std::vector<float> probs(6, 0.6f);
  acc.Record(1, rows.data(), 2, probs.data(), 0);
  acc.Record(2, rows.data() + 2 * kCols, 2, probs.data(), 0);
  acc.Record(3, rows.data() + 4 * kCols, 2, probs.data(), 0);  // 6 rows > 5: request 1 leaves
  BOOST_TEST(acc.Label(1, 0, 1) == LabelResult::kTooLate);
  BOOST_TEST(acc.Label(2, 1, 1) == LabelResult::kJoined);
  BOOST_TEST(acc.Label(3, 1, 1) == LabelResult::kJoined);

  // A request larger than the whole cache is not remembered, and evicts nothing.
  acc.Record(4, rows.data(), 6, probs.data(), 0);
  BOOST_TEST(acc.Label(4, 0, 1) == LabelResult::kUnknownRequest);
  BOOST_TEST(acc.Label(2, 0, 1) == LabelResult::kJoined);
  BOOST_TEST(acc.Label(3, 0, 1) == LabelResult::kJoined);

  // A reused id replaces the older request (a 1-row request now: row 1 is out of range).
  acc.Record(3, rows.data(), 1, probs.data(), 0);
  BOOST_TEST(acc.Label(3, 1, 1) == LabelResult::kBadRow);
  BOOST_TEST(acc.Label(3, 0, 0) == LabelResult::kJoined);

  // Many more requests than fit: only the newest ones (5 rows' worth) are joinable.
  for (uint64_t id = 100; id < 200; ++id) acc.Record(id, rows.data(), 1, probs.data(), 0);
  for (uint64_t id = 100; id < 195; ++id) BOOST_TEST(acc.Label(id, 0, 1) == LabelResult::kTooLate);
  BOOST_TEST(acc.Label(99, 0, 1) == LabelResult::kUnknownRequest);  // never seen
  for (uint64_t id = 195; id < 200; ++id) BOOST_TEST(acc.Label(id, 0, 1) == LabelResult::kJoined);
}

BOOST_AUTO_TEST_CASE(DrainResetsTheWindowButNotTheTotals) {
  DriftAccumulator acc(kCols, Rules(), 10, 100, 5);
  const std::vector<float> rows = RowsFrom(0, 4);
  const std::vector<float> probs = {0.9f, 0.9f, 0.1f, 0.1f};
  acc.Record(1, rows.data(), 4, probs.data(), 1);
  BOOST_TEST(acc.Label(1, 0, 1) == LabelResult::kJoined);
  const wire::DriftSummary first = acc.Drain("r", 1, 1000);
  BOOST_TEST(first.rows_scored == 4u);
  BOOST_TEST(first.label_tp == 1u);
  BOOST_TEST(acc.pending_rows() == 0u);

  const wire::DriftSummary empty = acc.Drain("r", 1, 2000);
  BOOST_TEST(empty.rows_scored == 0u);
  BOOST_TEST(empty.positives == 0u);
  BOOST_TEST(empty.window_start_unix_ms == 1000);  // the next window starts where the last ended
  BOOST_TEST(empty.window_end_unix_ms == 2000);
  BOOST_TEST(empty.sample_rows.empty());
  BOOST_TEST(empty.sample_labels.empty());
  BOOST_TEST(empty.label_tp + empty.label_fp + empty.label_tn + empty.label_fn == 0u);
  BOOST_REQUIRE_EQUAL(empty.features.size(), kCols);
  for (const RunningStats& f : empty.features) BOOST_TEST(f.count == 0u);
  BOOST_REQUIRE_EQUAL(empty.rule_fired.size(), 1u);
  BOOST_TEST(empty.rule_fired[0] == 0u);
  BOOST_TEST(empty.rule_conflicts[0] == 0u);

  // The next window counts only its own rows.
  acc.Record(2, rows.data() + 2 * kCols, 2, probs.data() + 2, 1);
  const wire::DriftSummary second = acc.Drain("r", 1, 3000);
  BOOST_TEST(second.rows_scored == 2u);
  BOOST_TEST(second.positives == 0u);
  BOOST_REQUIRE_EQUAL(second.features.size(), kCols);
  BOOST_TEST(second.features[0].count == 2u);
  BOOST_TEST(second.features[0].mean == 2.5, tt::tolerance(1e-12));
  BOOST_TEST(acc.totals().rows == 6u);
}

BOOST_AUTO_TEST_CASE(ConcurrentRecordsAndLabelsLoseNoRows) {
  DriftAccumulator acc(kCols, Rules(), 50, 100000, 9);
  const std::vector<float> rows = RowsFrom(0, 8);
  const std::vector<float> probs(8, 0.7f);
  constexpr uint64_t kPerThread = 500;
  auto writer = [&](uint64_t base) {
    for (uint64_t i = 0; i < kPerThread; ++i) {
      acc.Record(base + i, rows.data(), 8, probs.data(), 0);
      acc.Label(base + i, static_cast<uint32_t>(i % 8), 1);
    }
  };
  uint64_t drained = 0;
  std::thread t1(writer, 0), t2(writer, 1'000'000);
  for (int i = 0; i < 20; ++i) drained += acc.Drain("r", 0, i).rows_scored;
  t1.join();
  t2.join();
  drained += acc.Drain("r", 0, 99).rows_scored;
  BOOST_TEST(drained == 2 * kPerThread * 8);
  BOOST_TEST(acc.totals().labels_joined == 2 * kPerThread);
}

// Issue 19: with the fleet's clip band set, a float32-max row enters the feature statistics
// clamped (so the summary's mean stays finite and bounded), while the sample keeps it as scored.
BOOST_AUTO_TEST_CASE(FeatureClipBoundsTheStatisticsButNotTheSample) {
  DriftAccumulator acc(kCols, nullptr, 10, 0, 5);
  FeatureClip clip;
  clip.lo = {-1.0f, -1.0f, -1.0f};
  clip.hi = {1.0f, 1.0f, 1.0f};
  acc.SetFeatureClip(clip);
  std::vector<float> rows = {0.5f, 0.0f, std::numeric_limits<float>::max(), 0.5f, 0.0f, 0.0f};
  const std::vector<float> probs = {0.2f, 0.2f};
  acc.Record(1, rows.data(), 2, probs.data(), 0);
  const wire::DriftSummary s = acc.Drain("replica-1", 0, 0);
  BOOST_TEST(s.features[2].mean == 0.5, tt::tolerance(1e-9));
  BOOST_TEST(s.features[0].mean == 0.5, tt::tolerance(1e-9));
  const bool kept_as_scored = std::find(s.sample_rows.begin(), s.sample_rows.end(), std::numeric_limits<float>::max()) != s.sample_rows.end();
  BOOST_TEST(kept_as_scored);
}

}  // namespace
}  // namespace reflex::actors

// --- K-class models (3 classes here) ---

namespace reflex::actors {
namespace {

// Three probabilities per row; row i predicts class i % 3.
std::vector<float> ClassProbs(size_t first, size_t n) {
  std::vector<float> probs;
  for (size_t i = first; i < first + n; ++i) {
    for (size_t c = 0; c < 3; ++c) probs.push_back(c == i % 3 ? 0.6f : 0.2f);
  }
  return probs;
}

BOOST_AUTO_TEST_CASE(KClassSummaryCountsPredictedClassesInsteadOfPositives) {
  DriftAccumulator acc(kCols, nullptr, 10, 100, 1, nullptr, 3);
  const auto rows = RowsFrom(0, 7);
  const auto probs = ClassProbs(0, 7);
  acc.Record(1, rows.data(), 7, probs.data(), 0);
  const wire::DriftSummary s = acc.Drain("r", 0, 1);
  BOOST_TEST(s.rows_scored == 7u);
  BOOST_TEST(s.positives == 0u);
  BOOST_TEST(s.class_counts == (std::vector<uint64_t>{3, 2, 2}), tt::per_element());
  BOOST_TEST(s.features[0].count == 7u);
  BOOST_TEST(acc.Drain("r", 0, 2).class_counts == (std::vector<uint64_t>{0, 0, 0}), tt::per_element());
}

BOOST_AUTO_TEST_CASE(KClassLabelsAreClassIdsBelowK) {
  DriftAccumulator acc(kCols, nullptr, 10, 100, 1, nullptr, 3);
  const auto rows = RowsFrom(0, 3);
  const auto probs = ClassProbs(0, 3);
  acc.Record(5, rows.data(), 3, probs.data(), 0);
  BOOST_TEST(acc.Label(5, 2, 2) == LabelResult::kJoined);
  BOOST_TEST(acc.Label(5, 1, 3) == LabelResult::kBadLabel);
  BOOST_TEST(acc.Label(5, 2, 1) == LabelResult::kDuplicate);
  const wire::DriftSummary s = acc.Drain("r", 0, 1);
  BOOST_TEST(s.sample_labels.back() == 2);
  BOOST_TEST(s.label_tp + s.label_fp + s.label_tn + s.label_fn == 0u);
}

BOOST_AUTO_TEST_CASE(BinaryLabelsAboveOneAreRefused) {
  DriftAccumulator acc(kCols, nullptr, 10, 100, 1);
  const auto rows = RowsFrom(0, 1);
  const float p = 0.9f;
  acc.Record(5, rows.data(), 1, &p, 0);
  BOOST_TEST(acc.Label(5, 0, 2) == LabelResult::kBadLabel);
  BOOST_TEST(acc.Label(5, 0, 1) == LabelResult::kJoined);
}

// Version 0 in shadow always predicts class 1: the paired outcome counts right/wrong of the
// served version and version 0 on the same labelled rows; version 0's sample classes are counted.
BOOST_AUTO_TEST_CASE(KClassPairedOutcomeIsRightOrWrongAgainstVersionZero) {
  DriftAccumulator::AnchorScorer anchor = [](const float*, size_t n, float* probs) {
    for (size_t i = 0; i < n; ++i) {
      probs[i * 3] = 0.1f;
      probs[i * 3 + 1] = 0.8f;
      probs[i * 3 + 2] = 0.1f;
    }
  };
  DriftAccumulator acc(kCols, nullptr, 10, 100, 1, anchor, 3);
  const auto rows = RowsFrom(0, 6);
  const auto probs = ClassProbs(0, 6);  // served predicts 0, 1, 2, 0, 1, 2
  acc.Record(9, rows.data(), 6, probs.data(), 4);
  BOOST_TEST(acc.Label(9, 0, 0) == LabelResult::kJoined);  // served right, v0 wrong
  BOOST_TEST(acc.Label(9, 1, 1) == LabelResult::kJoined);  // both right
  BOOST_TEST(acc.Label(9, 2, 1) == LabelResult::kJoined);  // served wrong, v0 right
  BOOST_TEST(acc.Label(9, 3, 2) == LabelResult::kJoined);  // both wrong
  const wire::DriftSummary s = acc.Drain("r", 4, 1);
  const control::PairedOutcome o = control::PairedOutcome::FromCells(s.label_cells);
  BOOST_TEST(o.rows() == 4u);
  BOOST_TEST(o.only_served_right() == 1u);
  BOOST_TEST(o.only_anchor_right() == 1u);
  BOOST_TEST(o.cell[1][1][1] == 1u);
  BOOST_TEST(o.cell[1][0][0] == 1u);
  BOOST_TEST(s.sample_anchor_probs.empty());
  BOOST_TEST(s.anchor_class_counts == (std::vector<uint64_t>{0, 6, 0}), tt::per_element());
}

}  // namespace
}  // namespace reflex::actors
