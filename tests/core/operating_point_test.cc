#define BOOST_TEST_MODULE core_operating_point
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
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

namespace {

double Sigmoid(double t) { return 1.0 / (1.0 + std::exp(-t)); }

// n rows with logits evenly spread over [-4, 4] and labels drawn from `probability(logit)`.
template <typename F>
void Draw(size_t n, F probability, std::vector<float>* logits, std::vector<int8_t>* labels, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) {
    const double z = -4.0 + 8.0 * i / (n - 1);
    logits->push_back(static_cast<float>(z));
    labels->push_back(u(rng) < probability(z) ? 1 : 0);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(CalibrationRecoversAProbabilityThatPeaksInsideTheRange) {
  // Positives are most likely at logit 1 and rarer at both ends, as under the seed drift.
  auto truth = [](double z) { return Sigmoid(-1.0 - 0.25 * (z - 1.0) * (z - 1.0)); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(40000, truth, &logits, &labels);
  reflex::PlattFit quadratic = reflex::FitPlatt(logits.data(), labels.data(), logits.size(), 2);
  BOOST_REQUIRE(quadratic.ok);
  BOOST_TEST(quadratic.coef[2] < 0.0);
  for (double z : {-3.0, -1.0, 1.0, 3.0}) {
    BOOST_TEST(std::fabs(quadratic.Probability(z) - truth(z)) < 0.02, "at logit " << z);
  }
  // Platt scaling (degree 1) can only rise or fall: it misses the peak.
  reflex::PlattFit linear = reflex::FitPlatt(logits.data(), labels.data(), logits.size(), 1);
  BOOST_REQUIRE(linear.ok);
  BOOST_TEST(linear.coef[2] == 0.0);
  BOOST_TEST(std::fabs(linear.Probability(-4.0) - truth(-4.0)) > 0.02);
}

BOOST_AUTO_TEST_CASE(CalibrationNeedsBothClassesAndVaryingLogits) {
  std::vector<float> logits = {1, 2, 3};
  std::vector<int8_t> ones = {1, 1, 1}, mixed = {1, 0, 1};
  BOOST_TEST(!reflex::FitPlatt(logits.data(), ones.data(), 3).ok);
  std::vector<float> flat = {2, 2, 2};
  BOOST_TEST(!reflex::FitPlatt(flat.data(), mixed.data(), 3).ok);
  reflex::PlattFit fit = reflex::FitPlatt(logits.data(), mixed.data(), 3);  // separable-ish: ridge keeps it finite
  BOOST_TEST(fit.ok);
  BOOST_TEST(std::isfinite(fit.Probability(10.0)));
}

BOOST_AUTO_TEST_CASE(ExpectedChoiceGivesUpAtMostTheToleranceOfTheReferenceF1) {
  // A weak signal: the probability rises gently with the logit. The reference flags the top 60%.
  auto truth = [](double z) { return Sigmoid(-1.7 + 0.25 * z); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(4000, truth, &logits, &labels);
  std::vector<uint8_t> reference(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) reference[i] = logits[i] > -0.8f;
  LogitOffsetChoice strict = reflex::ChooseExpectedLogitOffset(logits.data(), labels.data(), logits.size(), reference.data(), 0.0);
  LogitOffsetChoice loose = reflex::ChooseExpectedLogitOffset(logits.data(), labels.data(), logits.size(), reference.data(), 0.04);
  BOOST_TEST(loose.reference_f1 == strict.reference_f1 - 0.04, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(strict.f1_after >= strict.reference_f1);
  BOOST_TEST(loose.f1_after >= loose.reference_f1);
  // Giving up F1 buys accuracy: the looser choice flags fewer rows (a lower offset).
  BOOST_TEST(loose.offset < strict.offset);
  BOOST_TEST(loose.accuracy_after > strict.accuracy_after);
  // The chosen threshold is near where the expected F1 meets the reference, not far past it.
  BOOST_TEST(loose.f1_after < loose.reference_f1 + 0.01);
}

BOOST_AUTO_TEST_CASE(DegreeOneExpectedChoiceCutsWhereTheCalibratedProbabilityCrossesHalf) {
  // A label shift on an over-confident model: the true log odds are 0.5 z + 1, so the accuracy-
  // optimal cut is z > -2, an offset of +2. The reference F1 is low enough not to bind.
  auto truth = [](double z) { return Sigmoid(0.5 * z + 1.0); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(8000, truth, &logits, &labels);
  std::vector<uint8_t> reference(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) reference[i] = logits[i] > 3.0f;
  LogitOffsetChoice c = reflex::ChooseExpectedLogitOffset(logits.data(), labels.data(), logits.size(), reference.data(), 0.03, 1);
  BOOST_TEST_MESSAGE("offset " << c.offset << ", expected accuracy " << c.accuracy_after << " at F1 " << c.f1_after);
  BOOST_TEST(std::fabs(c.offset - 2.0) < 0.3);
  BOOST_TEST(c.accuracy_after > c.accuracy_before);
}

BOOST_AUTO_TEST_CASE(ExpectedChoiceKeepsTheThresholdWhenLogitsDoNotRankTheLabels) {
  // Labels that fall as the logit rises: moving the threshold on these logits would be blind.
  auto inverted = [](double z) { return Sigmoid(-1.0 - 0.8 * z); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(2000, inverted, &logits, &labels);
  LogitOffsetChoice c = reflex::ChooseExpectedLogitOffset(logits.data(), labels.data(), logits.size(), nullptr, 0.04);
  BOOST_TEST(c.offset == 0.0);
  std::vector<int8_t> unlabelled(logits.size(), -1);
  c = reflex::ChooseExpectedLogitOffset(logits.data(), unlabelled.data(), logits.size(), nullptr, 0.04);
  BOOST_TEST(c.offset == 0.0);
  BOOST_TEST(c.rows == 0u);
}

BOOST_AUTO_TEST_CASE(BandChoiceFlagsWhereThePositivesPeakAndBeatsEveryThreshold) {
  // Positives most likely near logit 1, rarer at both ends: a band around 1 beats any threshold.
  auto truth = [](double z) { return Sigmoid(-0.5 - 0.6 * (z - 1.0) * (z - 1.0)); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(4000, truth, &logits, &labels);
  std::vector<uint8_t> reference(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) reference[i] = logits[i] > -1.0f;
  reflex::ScoreBandChoice band = reflex::ChooseExpectedScoreBand(logits.data(), labels.data(), logits.size(), reference.data(), 0.02);
  BOOST_REQUIRE(band.ok);
  BOOST_TEST(band.lo < 1.0);
  BOOST_TEST(band.hi > 1.0);
  BOOST_TEST(std::isfinite(band.lo));
  BOOST_TEST(std::isfinite(band.hi));
  BOOST_TEST(band.f1_after >= band.reference_f1);
  LogitOffsetChoice threshold = reflex::ChooseExpectedLogitOffset(logits.data(), labels.data(), logits.size(), reference.data(), 0.02);
  BOOST_TEST(band.accuracy_after > threshold.accuracy_after);
}

BOOST_AUTO_TEST_CASE(BandChoiceDeclinesWhenTheProbabilityOnlyRises) {
  // Monotone: the best set is a threshold, which is ChooseExpectedLogitOffset's job.
  auto rising = [](double z) { return Sigmoid(-1.0 + 0.9 * z); };
  std::vector<float> logits;
  std::vector<int8_t> labels;
  Draw(4000, rising, &logits, &labels);
  reflex::ScoreBandChoice band = reflex::ChooseExpectedScoreBand(logits.data(), labels.data(), logits.size(), nullptr, 0.04);
  BOOST_TEST(!band.ok);
  std::vector<int8_t> unlabelled(logits.size(), -1);
  band = reflex::ChooseExpectedScoreBand(logits.data(), unlabelled.data(), logits.size(), nullptr, 0.04);
  BOOST_TEST(!band.ok);
  BOOST_TEST(band.rows == 0u);
}

