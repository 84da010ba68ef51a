#define BOOST_TEST_MODULE core_operating_point
#include <boost/test/unit_test.hpp>

#include <vector>

#include "core/operating_point.h"

using reflex::ChooseLogitOffset;
using reflex::LogitOffsetChoice;
using reflex::OperatingPoint;

namespace {

// Accuracy and F1 of `logits + offset > 0` against labels, counted directly.
std::pair<double, double> Score(const std::vector<float>& logits, const std::vector<int8_t>& labels, double offset) {
  size_t tp = 0, fp = 0, fn = 0, n = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) continue;
    ++n;
    const bool flag = logits[i] + offset > 0;
    tp += flag && labels[i] == 1;
    fp += flag && labels[i] == 0;
    fn += !flag && labels[i] == 1;
  }
  return {static_cast<double>(n - fp - fn) / n, 2.0 * tp / (2.0 * tp + fp + fn)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(NoneKeepsTheThresholdAndMeasuresIt) {
  std::vector<float> logits = {2, 1, -1, -2};
  std::vector<int8_t> labels = {1, 0, 1, 0};
  LogitOffsetChoice c = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kNone);
  BOOST_TEST(c.offset == 0.0);
  BOOST_TEST(c.rows == 4u);
  BOOST_TEST(c.accuracy_before == 0.5);
  BOOST_TEST(c.f1_before == 0.5);
}

BOOST_AUTO_TEST_CASE(RaisesTheThresholdWhenThatGainsAccuracyAndKeepsF1) {
  // Flagged now: the top five (logit > 0); two of them are negatives that sit lowest.
  std::vector<float> logits = {3.0f, 2.5f, 2.0f, 0.4f, 0.2f, -1.0f, -2.0f, -3.0f};
  std::vector<int8_t> labels = {1, 1, 1, 0, 0, 0, 0, 0};
  LogitOffsetChoice c = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.offset == -(2.0 + 0.4) / 2, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(c.accuracy_after == 1.0);
  BOOST_TEST(c.f1_after == 1.0);
  auto [acc, f1] = Score(logits, labels, c.offset);
  BOOST_TEST(acc == c.accuracy_after);
  BOOST_TEST(f1 == c.f1_after);
}

BOOST_AUTO_TEST_CASE(NeverBuysAccuracyWithF1) {
  // Raising the threshold past 0.5 keeps the positive and drops the false positive: better on both.
  std::vector<float> logits = {1.0f, 0.5f, -0.5f, -1.0f};
  std::vector<int8_t> labels = {1, 0, 0, 0};
  LogitOffsetChoice c = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.offset < -0.5);
  BOOST_TEST(c.offset > -1.0);
  BOOST_TEST(c.f1_after >= c.f1_before);
  // Now the positive sits below a negative. Flagging nothing is as accurate as now (0.75) but
  // has F1 0; every other threshold has a lower F1: the rule keeps the threshold.
  std::vector<int8_t> hard = {0, 1, 0, 0};
  c = ChooseLogitOffset(logits.data(), hard.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.offset == 0.0);
  BOOST_TEST(c.f1_after == c.f1_before);
}

BOOST_AUTO_TEST_CASE(IgnoresUnlabelledRowsAndTies) {
  std::vector<float> logits = {1.0f, 1.0f, 1.0f, -1.0f, 5.0f};
  std::vector<int8_t> labels = {1, 0, 0, 0, -1};  // the 5.0 row has no label
  LogitOffsetChoice c = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.rows == 4u);
  // The three tied rows cannot be split by any threshold: flagging them is the only way to keep F1.
  BOOST_TEST(c.offset == 0.0);
  auto [acc, f1] = Score(logits, labels, c.offset);
  BOOST_TEST(acc == c.accuracy_after);
  BOOST_TEST(f1 == c.f1_after);
  std::vector<int8_t> none(5, -1);
  c = ChooseLogitOffset(logits.data(), none.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.rows == 0u);
  BOOST_TEST(c.offset == 0.0);
}

BOOST_AUTO_TEST_CASE(LowersTheThresholdWhenThatGainsBoth) {
  std::vector<float> logits = {-0.2f, -0.4f, -3.0f, -4.0f};
  std::vector<int8_t> labels = {1, 1, 0, 0};
  LogitOffsetChoice c = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(c.offset == (0.4 + 3.0) / 2, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(c.accuracy_after == 1.0);
  BOOST_TEST(c.f1_before == 0.0);
}

BOOST_AUTO_TEST_CASE(KeepsAGivenReferenceF1RatherThanTheCurrentOne) {
  // Ten rows, three positives spread through the ranking; now everything is flagged (F1 6/13).
  // Flagging the top k gives (accuracy, F1): k=1 (0.8, 0.5), k=4 (0.7, 0.571), k=8 (0.5, 0.545).
  std::vector<float> logits = {5, 4, 3, 2, 1.5f, 1, 0.8f, 0.6f, 0.4f, 0.2f};
  std::vector<int8_t> labels = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0};
  // Its own F1 as the reference: the top row alone keeps it and is the most accurate.
  LogitOffsetChoice own = ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1);
  BOOST_TEST(own.reference_f1 == own.f1_before);
  BOOST_TEST(own.offset == -(5.0 + 4.0) / 2, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(own.accuracy_after == 0.8);
  // A higher reference (0.55) only the top 4 reach.
  LogitOffsetChoice high =
      ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1, 0.55);
  BOOST_TEST(high.offset == -(2.0 + 1.5) / 2, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(high.accuracy_after == 0.7);
  BOOST_TEST(high.f1_after >= 0.55);
  // An unreachable reference falls back to the highest F1 there is (again the top 4).
  LogitOffsetChoice unreachable =
      ChooseLogitOffset(logits.data(), labels.data(), logits.size(), OperatingPoint::kAccuracyAtF1, 0.9);
  BOOST_TEST(unreachable.reference_f1 == 0.9);
  BOOST_TEST(unreachable.offset == high.offset);
  BOOST_TEST(unreachable.f1_after == 8.0 / 14.0, boost::test_tools::tolerance(1e-12));
}
