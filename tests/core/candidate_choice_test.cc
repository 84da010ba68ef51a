#define BOOST_TEST_MODULE core_candidate_choice
#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

#include "core/candidate_choice.h"
#include "core/holdout_split.h"

using reflex::ChoiceCandidate;
using reflex::ChooseJustifiedCandidate;

namespace {

constexpr double kZ = 1.645;

// Per-row losses around `mean`: a shared per-row difficulty (what pairing removes) plus the
// candidate's own noise.
std::vector<double> Losses(const std::vector<double>& difficulty, double mean, double noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, noise);
  std::vector<double> out;
  for (double d : difficulty) out.push_back(mean + d + n(rng));
  return out;
}

std::vector<double> Difficulty(size_t rows) {
  std::mt19937_64 rng(99);
  std::exponential_distribution<double> e(2.0);
  std::vector<double> out;
  for (size_t i = 0; i < rows; ++i) out.push_back(e(rng));
  return out;
}

// parent, label-free, labelled, with the given mean losses on `rows` rows.
std::vector<ChoiceCandidate> Three(size_t rows, double parent, double label_free, double labelled, double noise = 0.05) {
  const std::vector<double> d = Difficulty(rows);
  return {{"parent", true, Losses(d, parent, noise, 1)},
          {"label-free", true, Losses(d, label_free, noise, 2)},
          {"labelled", true, Losses(d, labelled, noise, 3)}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(LabelsThatFavourTheLabelFreeCandidatePickIt) {
  auto c = ChooseJustifiedCandidate(Three(400, 0.60, 0.45, 0.50), kZ);
  BOOST_TEST(c.chosen == 1u);
  BOOST_TEST(c.rows == 400u);
  BOOST_TEST(c.lower_bound[1] > 0);
}

BOOST_AUTO_TEST_CASE(LabelsThatClearlyFavourTheLabelledCandidatePickIt) {
  auto c = ChooseJustifiedCandidate(Three(400, 0.60, 0.50, 0.40), kZ);
  BOOST_TEST(c.chosen == 2u);
  BOOST_TEST(c.lower_bound[2] > 0);
}

BOOST_AUTO_TEST_CASE(ALabelledCandidateWithinTheNoiseOfTheLabelFreeOneKeepsTheLabelFreeOne) {
  auto c = ChooseJustifiedCandidate(Three(400, 0.60, 0.45, 0.447, 0.3), kZ);
  BOOST_TEST(c.chosen == 1u);
}

BOOST_AUTO_TEST_CASE(TooFewLabelsKeepTheSimplerCandidate) {
  // Lower mean losses on three rows that disagree with each other prove nothing.
  std::vector<ChoiceCandidate> few = {{"parent", true, {0.6, 0.6, 0.6}},
                                      {"label-free", true, {0.2, 0.9, 0.4}},
                                      {"labelled", true, {0.1, 1.0, 0.1}}};
  auto c = ChooseJustifiedCandidate(few, kZ);
  BOOST_TEST(c.chosen == 0u);
  // The same gains, consistent over many rows, do.
  std::vector<ChoiceCandidate> many = few;
  for (int copy = 0; copy < 100; ++copy) {
    for (size_t k = 0; k < few.size(); ++k) many[k].losses.insert(many[k].losses.end(), few[k].losses.begin(), few[k].losses.end());
  }
  BOOST_TEST(ChooseJustifiedCandidate(many, kZ).chosen == 2u);
  auto one = ChooseJustifiedCandidate(Three(1, 0.60, 0.10, 0.05), kZ);
  BOOST_TEST(one.chosen == 0u);
  auto none = ChooseJustifiedCandidate(Three(0, 0.60, 0.10, 0.05), kZ);
  BOOST_TEST(none.chosen == 0u);
}

BOOST_AUTO_TEST_CASE(WhenNeitherBeatsTheParentTheParentStays) {
  auto c = ChooseJustifiedCandidate(Three(400, 0.40, 0.45, 0.41), kZ);
  BOOST_TEST(c.chosen == 0u);
  BOOST_TEST(c.reason.find("parent") != std::string::npos);
  // Identical candidates are not an improvement either.
  const std::vector<double> d = Difficulty(50);
  auto same = ChooseJustifiedCandidate({{"parent", true, d}, {"label-free", true, d}}, kZ);
  BOOST_TEST(same.chosen == 0u);
}

BOOST_AUTO_TEST_CASE(ACandidateItsOwnGateRefusedIsNeverChosen) {
  std::vector<ChoiceCandidate> c = Three(400, 0.60, 0.50, 0.10);
  c[2].admissible = false;
  auto choice = ChooseJustifiedCandidate(c, kZ);
  BOOST_TEST(choice.chosen == 1u);
  BOOST_TEST(std::isnan(choice.mean_loss[2]));
}

BOOST_AUTO_TEST_CASE(HoldoutSplitIsDeterministicInTheSeedAndSkipsUnlabelledRows) {
  std::vector<float> rows;
  std::vector<int8_t> labels;
  for (int i = 0; i < 1000; ++i) {
    rows.push_back(static_cast<float>(i));
    rows.push_back(static_cast<float>(i % 7));
    labels.push_back(i % 5 == 0 ? -1 : static_cast<int8_t>(i % 2));
  }
  auto a = reflex::SplitLabelledRows(labels.data(), 1000, 2, rows.data(), 2, 42, 0.2);
  auto b = reflex::SplitLabelledRows(labels.data(), 1000, 2, rows.data(), 2, 42, 0.2);
  auto other = reflex::SplitLabelledRows(labels.data(), 1000, 2, rows.data(), 2, 43, 0.2);
  BOOST_TEST(a.labelled == 800u);
  BOOST_TEST(a.holdout == b.holdout);
  BOOST_TEST(a.holdout != other.holdout);
  BOOST_TEST(a.held_out > 120u);
  BOOST_TEST(a.held_out < 200u);
  for (size_t i = 0; i < 1000; ++i) {
    BOOST_TEST(a.train[i] + a.holdout[i] == (labels[i] < 0 ? 0.0f : 1.0f));
  }
}
