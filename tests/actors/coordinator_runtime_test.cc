#define BOOST_TEST_MODULE actors_coordinator_runtime
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "actors/coordinator_runtime.h"
#include "core/validation_gate.h"
#include "model/healable_model.h"
#include "model/trainer.h"
#include "tests/model/synthetic_data.h"

namespace reflex::actors {
namespace {

using reflex::testing::Data;
using reflex::testing::kDims;
using reflex::testing::MakeData;

struct World {
  std::shared_ptr<HealableModel> model;
  Data rows;
  double rate = 0;  // version 0's positive rate on `rows`
};

const World& TheWorld() {
  static const World world = [] {
    std::vector<std::string> names;
    for (size_t f = 0; f < kDims; ++f) names.push_back("f" + std::to_string(f));
    auto model = HealableModel::CreateMlp(names, 3);
    BOOST_REQUIRE(model.ok());
    Data clean = MakeData(600, 1);
    TrainConfig config;
    config.epochs = 5;
    BOOST_REQUIRE(TrainMlp(**model, clean.view(), clean.labels.data(), config).ok());
    World w{*model, MakeData(400, 2), 0};
    auto probs = w.model->Score(w.model->initial_adapter(), w.rows.view());
    BOOST_REQUIRE(probs.ok());
    size_t positives = 0;
    for (float p : *probs) positives += p >= 0.5f;
    w.rate = static_cast<double>(positives) / w.rows.n;
    return w;
  }();
  return world;
}

// Version 0's weights as a candidate version 1 of parent 0.
AdapterVersion Candidate(const HealableModel& model) {
  AdapterVersion c = model.initial_adapter();
  c.version = 1;
  c.parent = 0;
  c.Seal();
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(AdmitCandidateAdmitsACandidateInsideTheEvidenceBounds) {
  const World& w = TheWorld();
  RateEvidence evidence;
  evidence.clean_rate = w.rate;
  Admission a = AdmitCandidate(*w.model, Candidate(*w.model), w.model->initial_adapter(), w.rows.rows, kDims, HealPolicy{},
                               w.rate, evidence);
  BOOST_TEST_MESSAGE(a.reason);
  BOOST_TEST(a.admitted);
  BOOST_TEST(a.positive_rate == w.rate);
}

BOOST_AUTO_TEST_CASE(AdmitCandidateRefusesACandidateOutsideTheEvidenceBounds) {
  const World& w = TheWorld();
  RateEvidence evidence;
  evidence.clean_rate = w.rate > 0.5 ? w.rate - 0.3 : w.rate + 0.3;
  const RateBounds b = PositiveRateBounds(RateEvidence{evidence.clean_rate, {}, {}, 0, w.rows.n}, HealPolicy{});
  BOOST_REQUIRE(w.rate < b.lo || w.rate > b.hi);
  Admission a = AdmitCandidate(*w.model, Candidate(*w.model), w.model->initial_adapter(), w.rows.rows, kDims, HealPolicy{},
                               w.rate, evidence);
  BOOST_TEST_MESSAGE(a.reason);
  BOOST_TEST(!a.admitted);
}

BOOST_AUTO_TEST_CASE(AdmitCandidateUsesTheLabelledPriorWhenTheHealHadLabels) {
  // A majority-positive task: the healer's metrics carry the labelled prior, and the bounds
  // follow it rather than any fixed range.
  const World& w = TheWorld();
  const RateEvidence evidence =
      AdmissionEvidence(w.rate > 0.5 ? w.rate - 0.3 : w.rate + 0.3,
                        {{"labelled_rows", 500}, {"labelled_prior", w.rate}, {"label_shift", 0}, {"estimated_prior", 0.1}});
  BOOST_REQUIRE(evidence.labelled_prior.has_value());
  BOOST_TEST(!evidence.estimated_prior.has_value());
  Admission a = AdmitCandidate(*w.model, Candidate(*w.model), w.model->initial_adapter(), w.rows.rows, kDims, HealPolicy{},
                               w.rate, evidence);
  BOOST_TEST_MESSAGE(a.reason);
  BOOST_TEST(a.admitted);
}

BOOST_AUTO_TEST_CASE(AdmitCandidateRefusesARateThatDiffersFromTheHealersReport) {
  const World& w = TheWorld();
  Admission a = AdmitCandidate(*w.model, Candidate(*w.model), w.model->initial_adapter(), w.rows.rows, kDims, HealPolicy{},
                               w.rate + 0.1);
  BOOST_TEST(!a.admitted);
  BOOST_TEST(a.reason.find("differs") != std::string::npos);
}

}  // namespace reflex::actors
