// The coordinator's K-class admission (actors/multiclass_admission.h): the predicted-class
// distribution's total variation is re-measured on the job's rows, checked against the healer's
// figure and put through the healer's gate; a damaged candidate is refused.
#define BOOST_TEST_MODULE actors_multiclass_admission
#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/multiclass_admission.h"
#include "model/healable_model.h"
#include "model/trainer.h"

namespace reflex::actors {
namespace {

constexpr size_t kPixels = 64, kClasses = 3;

// Faint noise with a bright 3x3 square in one of three places (class c); `offset` added.
std::vector<float> Rows(size_t n, uint64_t seed, float offset, std::vector<uint8_t>* labels) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(0.0f, 0.2f);
  std::vector<float> x;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = static_cast<uint8_t>(i % kClasses);
    if (labels) labels->push_back(c);
    const size_t first = x.size();
    for (size_t p = 0; p < kPixels; ++p) x.push_back(u(rng));
    for (size_t r = 1 + 2 * c; r < 4 + 2 * c; ++r)
      for (size_t col = 4 - c; col < 7 - c; ++col) x[first + r * 8 + col] = 0.9f;
  }
  for (float& v : x) v = std::min(1.0f, v + offset);
  return x;
}

std::shared_ptr<HealableModel> Model() {
  static std::shared_ptr<HealableModel> model = [] {
    auto m = HealableModel::CreateImageCnn(8, 8, kClasses, 5, 16);
    BOOST_REQUIRE(m.ok());
    std::vector<uint8_t> y;
    const auto x = Rows(600, 1, 0.0f, &y);
    TrainConfig config;
    config.epochs = 5;
    config.batch_size = 32;
    config.lr = 0.003;
    BOOST_REQUIRE(TrainClassifier(**m, {x.data(), 600, kPixels}, y.data(), config).ok());
    return *m;
  }();
  return model;
}

const std::vector<double> kClean = {1.0 / 3, 1.0 / 3, 1.0 / 3};

BOOST_AUTO_TEST_CASE(PredictedClassTvIsHalfTheL1DistanceOfTheArgmaxHistogram) {
  const std::vector<float> probs = {0.8f, 0.1f, 0.1f, 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f, 0.2f, 0.6f, 0.2f};
  // Histogram 2/4, 1/4, 1/4 against uniform thirds: (1/6 + 1/12 + 1/12) / 2 = 1/6.
  BOOST_TEST(PredictedClassTv(probs.data(), 4, 3, kClean) == 1.0 / 6, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(ACandidateWhoseFiguresMatchIsAdmitted) {
  const auto model = Model();
  const auto rows = Rows(300, 2, 0.0f, nullptr);
  AdapterVersion parent = model->initial_adapter();
  AdapterVersion candidate = parent;
  candidate.version = 1;
  candidate.Seal();
  auto probs = model->Score(candidate, {rows.data(), 300, kPixels});
  BOOST_REQUIRE(probs.ok());
  const double tv = PredictedClassTv(probs->data(), 300, kClasses, kClean);
  HealPolicy policy;
  const Admission a = AdmitMulticlassCandidate(*model, kClean, candidate, parent, rows, policy,
                                               {{"class_tv", tv}, {"aligned", 0}});
  BOOST_TEST(a.admitted, a.reason);
  BOOST_TEST(a.positive_rate == tv, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(AHealerFigureThatIsNotWhatTheCoordinatorMeasuresIsRefused) {
  const auto model = Model();
  const auto rows = Rows(300, 2, 0.0f, nullptr);
  AdapterVersion parent = model->initial_adapter();
  AdapterVersion candidate = parent;
  candidate.version = 1;
  candidate.Seal();
  HealPolicy policy;
  const Admission a = AdmitMulticlassCandidate(*model, kClean, candidate, parent, rows, policy, {{"class_tv", 0.5}});
  BOOST_TEST(!a.admitted);
  BOOST_TEST(a.reason.find("differs from the healer's") != std::string::npos, a.reason);
  const Admission none = AdmitMulticlassCandidate(*model, kClean, candidate, parent, rows, policy, {});
  BOOST_TEST(!none.admitted, none.reason);
}

BOOST_AUTO_TEST_CASE(ADamagedCandidateIsRefused) {
  const auto model = Model();
  const auto rows = Rows(30, 2, 0.0f, nullptr);
  AdapterVersion parent = model->initial_adapter();
  AdapterVersion candidate = parent;
  candidate.version = 1;
  candidate.Seal();
  candidate.weights[0] += 1.0f;  // after sealing: the checksum no longer matches
  const Admission a = AdmitMulticlassCandidate(*model, kClean, candidate, parent, rows, HealPolicy{}, {{"class_tv", 0}});
  BOOST_TEST(!a.admitted);
  BOOST_TEST(a.reason.find("damaged") != std::string::npos, a.reason);
}

}  // namespace
}  // namespace reflex::actors
