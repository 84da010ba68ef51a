#define BOOST_TEST_MODULE core_label_shift
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "core/label_shift.h"
#include "core/welford.h"

using namespace reflex;

namespace {

// Class-conditional Gaussians of a 3-feature task: class 0 ~ N(mean0, sd0), class 1 ~ N(mean1, sd1).
const double kMean0[3] = {0.0, 1.0, -2.0};
const double kSd0[3] = {1.0, 0.5, 2.0};
const double kMean1[3] = {1.5, 0.2, -0.5};
const double kSd1[3] = {1.2, 0.8, 1.5};

struct Sample {
  std::vector<RunningStats> class0{3}, class1{3}, observed{3};
};

// Rows of one class; `transform` is applied to feature `feature` (affine a*x + b).
void AddRows(std::mt19937_64* rng, int label, size_t rows, std::vector<RunningStats>* stats,
             int feature = -1, double a = 1, double b = 0) {
  std::normal_distribution<double> normal(0, 1);
  for (size_t r = 0; r < rows; ++r) {
    for (int j = 0; j < 3; ++j) {
      double x = label == 1 ? kMean1[j] + kSd1[j] * normal(*rng)
                            : kMean0[j] + kSd0[j] * normal(*rng);
      if (j == feature) x = a * x + b;
      (*stats)[j].Add(x);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(AdjustPosteriorKeepsPosteriorWhenPriorIsUnchanged) {
  for (double p : {0.0, 0.01, 0.3, 0.5, 0.97, 1.0}) {
    BOOST_TEST(std::abs(AdjustPosterior(p, 0.15, 0.15) - p) < 1e-12);
  }
  BOOST_TEST(AdjustPosterior(0.0, 0.15, 0.6) == 0.0);
  BOOST_TEST(AdjustPosterior(1.0, 0.15, 0.6) == 1.0);
  // A prior rise raises every interior posterior; going there and back is the identity.
  BOOST_TEST(AdjustPosterior(0.3, 0.15, 0.4) > 0.3);
  const double there = AdjustPosterior(0.3, 0.15, 0.4);
  BOOST_TEST(std::abs(AdjustPosterior(there, 0.4, 0.15) - 0.3) < 1e-12);
  // The posterior at the training prior equals the new prior: p = pi maps to q.
  BOOST_TEST(std::abs(AdjustPosterior(0.15, 0.15, 0.4) - 0.4) < 1e-12);
}

BOOST_AUTO_TEST_CASE(EmRecoversAShiftedPriorFromCalibratedPosteriors) {
  // 1-D task: x ~ N(+1, 1) for positives, N(-1, 1) for negatives. A model calibrated at prior
  // 0.15 outputs p = sigmoid(2x + log(0.15 / 0.85)). The stream's true prior is 0.40.
  const double train_prior = 0.15;
  std::mt19937_64 rng(20240601);
  std::bernoulli_distribution positive(0.40);
  std::normal_distribution<double> noise(0, 1);
  std::vector<float> probs;
  for (int i = 0; i < 20000; ++i) {
    const double x = (positive(rng) ? 1.0 : -1.0) + noise(rng);
    const double logit = 2 * x + std::log(train_prior / (1 - train_prior));
    probs.push_back(static_cast<float>(1 / (1 + std::exp(-logit))));
  }
  double mean_prob = 0;
  for (float p : probs) mean_prob += p;
  mean_prob /= probs.size();
  BOOST_TEST(std::abs(mean_prob - 0.40) > 0.05);  // the raw mean is biased toward 0.15

  PriorEstimate estimate = EstimatePriorEm(probs.data(), probs.size(), train_prior);
  BOOST_TEST(estimate.converged);
  BOOST_TEST(estimate.iterations > 1);
  BOOST_TEST(std::abs(estimate.prior - 0.40) < 0.03, "estimated " << estimate.prior);
}

namespace {

// A 1-D task scored by a model that is NOT calibrated: it was trained with a class weight of 4
// on positives (its posteriors read as if the prior were 4x the odds) and is under-confident
// (half the ideal slope). Returns posteriors of `n` rows at `prior`, their labels in `labels`.
std::vector<float> MiscalibratedScores(double prior, size_t n, uint64_t seed, std::vector<uint8_t>* labels) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution positive(prior);
  std::normal_distribution<double> noise(0, 1);
  std::vector<float> probs;
  for (size_t i = 0; i < n; ++i) {
    const bool y = positive(rng);
    const double x = (y ? 1.0 : -1.0) + noise(rng);
    const double logit = x + std::log(4 * 0.15 / 0.85);
    probs.push_back(static_cast<float>(1 / (1 + std::exp(-logit))));
    if (labels) labels->push_back(y ? 1 : 0);
  }
  return probs;
}

ScoreMeans MeansOf(const std::vector<float>& probs, const std::vector<uint8_t>& labels) {
  double sum[2] = {0, 0};
  size_t count[2] = {0, 0};
  for (size_t i = 0; i < probs.size(); ++i) {
    sum[labels[i]] += probs[i];
    ++count[labels[i]];
  }
  return ScoreMeans{sum[0] / count[0], sum[1] / count[1]};
}

}  // namespace

BOOST_AUTO_TEST_CASE(ScoreMeansRecoverAMajorityPriorWhereEmOnAMiscalibratedModelDoesNot) {
  std::vector<uint8_t> clean_labels;
  const std::vector<float> clean = MiscalibratedScores(0.15, 20000, 7, &clean_labels);
  const ScoreMeans means = MeansOf(clean, clean_labels);
  BOOST_TEST(means.usable());
  const std::vector<float> stream = MiscalibratedScores(0.60, 5000, 8, nullptr);

  const double em = EstimatePriorEm(stream.data(), stream.size(), 0.15).prior;
  BOOST_TEST(std::abs(em - 0.60) > 0.08, "EM read " << em);  // the bias this estimator exists for
  auto estimate = EstimatePriorFromScores(stream.data(), stream.size(), means);
  BOOST_REQUIRE(estimate.ok());
  BOOST_TEST(std::abs(estimate->prior - 0.60) < 3 * estimate->standard_error + 0.01,
             "estimated " << estimate->prior << " +- " << estimate->standard_error);
  BOOST_TEST(estimate->standard_error > 0);
  BOOST_TEST(estimate->standard_error < 0.03);
}

BOOST_AUTO_TEST_CASE(ScoreMeansReadTheCleanPriorOnCleanRows) {
  std::vector<uint8_t> labels;
  const std::vector<float> clean = MiscalibratedScores(0.15, 20000, 9, &labels);
  auto estimate = EstimatePriorFromScores(clean.data(), clean.size(), MeansOf(clean, labels));
  BOOST_REQUIRE(estimate.ok());
  double fraction = 0;
  for (uint8_t y : labels) fraction += y;
  fraction /= labels.size();
  BOOST_TEST(std::abs(estimate->prior - fraction) < 1e-6);  // in-sample: the labels' own rate, by construction
}

BOOST_AUTO_TEST_CASE(ScoreMeansThatDoNotSeparateTheClassesAreRefused) {
  const float probs[2] = {0.4f, 0.6f};
  BOOST_TEST(!EstimatePriorFromScores(probs, 2, ScoreMeans{0.50, 0.52}).ok());  // below kMinSeparation
  BOOST_TEST(!EstimatePriorFromScores(probs, 2, ScoreMeans{}).ok());            // unknown
  const float nan_only[2] = {NAN, NAN};
  BOOST_TEST(!EstimatePriorFromScores(nan_only, 2, ScoreMeans{0.2, 0.8}).ok());
  // Beyond the clean means the estimate is clamped to a prior.
  const float high[2] = {0.95f, 0.99f};
  BOOST_TEST(EstimatePriorFromScores(high, 2, ScoreMeans{0.2, 0.8})->prior == 1.0);
}

BOOST_AUTO_TEST_CASE(EmWithoutUsablePosteriorsReturnsTheTrainingPrior) {
  PriorEstimate estimate = EstimatePriorEm(nullptr, 0, 0.15);
  BOOST_TEST(estimate.prior == 0.15);
  BOOST_TEST(estimate.iterations == 0);
  BOOST_TEST(!estimate.converged);
  const float nan_only[2] = {NAN, NAN};
  BOOST_TEST(EstimatePriorEm(nan_only, 2, 0.15).prior == 0.15);
}

BOOST_AUTO_TEST_CASE(EmStopsAtMaxIterationsWithoutConverging) {
  const float probs[4] = {0.9f, 0.8f, 0.7f, 0.95f};
  PriorEstimate estimate = EstimatePriorEm(probs, 4, 0.15, /*max_iterations=*/2, 1e-12);
  BOOST_TEST(estimate.iterations == 2);
  BOOST_TEST(!estimate.converged);
  BOOST_TEST(estimate.prior <= 1 - kMinPrior);
}

BOOST_AUTO_TEST_CASE(ReweightedMixtureFitsWithRightWeightAndSmallResidual) {
  std::mt19937_64 rng(7);
  Sample sample;
  AddRows(&rng, 0, 4000, &sample.class0);
  AddRows(&rng, 1, 4000, &sample.class1);
  // Drifted window: the positive share rose to 0.40; inputs of each class are unchanged.
  AddRows(&rng, 1, 1200, &sample.observed);
  AddRows(&rng, 0, 1800, &sample.observed);

  Result<MixtureFit> fit = FitClassMixture(sample.class0, sample.class1, sample.observed);
  BOOST_TEST_REQUIRE(fit.ok(), fit.status().ToString());
  BOOST_TEST(std::abs(fit->weight - 0.40) < 0.03, "weight " << fit->weight);
  BOOST_TEST(fit->max_residual_z < 3.5, "max z " << fit->max_residual_z);
}

BOOST_AUTO_TEST_CASE(AffineShiftOfOneFeatureInBothClassesGivesLargeResidual) {
  std::mt19937_64 rng(11);
  Sample sample;
  AddRows(&rng, 0, 4000, &sample.class0);
  AddRows(&rng, 1, 4000, &sample.class1);
  // Same prior as calibration (0.15), but feature 1 is re-scaled and offset for everyone.
  AddRows(&rng, 1, 450, &sample.observed, /*feature=*/1, 1.5, 0.8);
  AddRows(&rng, 0, 2550, &sample.observed, /*feature=*/1, 1.5, 0.8);

  Result<MixtureFit> fit = FitClassMixture(sample.class0, sample.class1, sample.observed);
  BOOST_TEST_REQUIRE(fit.ok(), fit.status().ToString());
  BOOST_TEST(fit->max_residual_z > 10, "max z " << fit->max_residual_z);
  BOOST_TEST(fit->worst_feature == 1u);
}

BOOST_AUTO_TEST_CASE(MixtureFitRejectsMismatchedOrTooSmallStatistics) {
  std::mt19937_64 rng(3);
  Sample sample;
  AddRows(&rng, 0, 10, &sample.class0);
  AddRows(&rng, 1, 10, &sample.class1);
  AddRows(&rng, 0, 10, &sample.observed);
  std::vector<RunningStats> two(sample.observed.begin(), sample.observed.begin() + 2);
  BOOST_CHECK(FitClassMixture(sample.class0, sample.class1, two).status().code() ==
              StatusCode::kInvalidArgument);
  BOOST_CHECK(FitClassMixture({}, {}, {}).status().code() == StatusCode::kInvalidArgument);
  std::vector<RunningStats> thin = sample.observed;
  thin[2] = RunningStats();
  thin[2].Add(1.0);
  Result<MixtureFit> fit = FitClassMixture(sample.class0, sample.class1, thin);
  BOOST_CHECK(fit.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(fit.status().message().find("observed feature 2 has 1 values") != std::string::npos,
             fit.status().message());
}

BOOST_AUTO_TEST_CASE(IdenticalClassMeansFallBackToVarianceFit) {
  // Both classes centred at 0 with variances 1 and 9, so only the variance identifies w.
  auto stats = [](uint64_t count, double mean, double variance) {
    RunningStats s;
    s.count = count;
    s.mean = mean;
    s.m2 = variance * static_cast<double>(count);
    return s;
  };
  std::vector<RunningStats> class0 = {stats(20000, 0, 1)};
  std::vector<RunningStats> class1 = {stats(20000, 0, 9)};
  std::vector<RunningStats> observed = {stats(5000, 0, 0.6 * 1 + 0.4 * 9)};
  Result<MixtureFit> fit = FitClassMixture(class0, class1, observed);
  BOOST_TEST_REQUIRE(fit.ok(), fit.status().ToString());
  BOOST_TEST(std::abs(fit->weight - 0.40) < 1e-6, "weight " << fit->weight);
  BOOST_TEST(fit->max_residual_z < 1e-4, "max z " << fit->max_residual_z);
}
