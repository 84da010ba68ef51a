// EngineScorer: a K-class model's scores through the transport::Scorer interface (K class
// probabilities per row, summing to 1, equal to the model's own), its schema and served version.
#define BOOST_TEST_MODULE actors_engine_scorer
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include <prometheus/registry.h>

#include "actors/engine_scorer.h"
#include "actors/metrics.h"
#include "model/healable_model.h"
#include "model/serving_engine.h"

using namespace reflex;
using reflex::actors::EngineScorer;

BOOST_AUTO_TEST_CASE(KClassEngineScorerWritesKProbabilitiesPerRowEqualToTheModels) {
  auto model = HealableModel::CreateImageCnn(8, 8, 3, 5, 16);
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  std::shared_ptr<const HealableModel> shared = *model;
  auto engine = ServingEngine::Create(shared, shared->initial_adapter());
  BOOST_REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
  prometheus::Registry registry;
  EngineScorer scorer(std::shared_ptr<ServingEngine>(std::move(*engine)), actors::MakeReplicaMetrics(registry, "r"));
  BOOST_TEST(scorer.cols() == 64u);
  BOOST_TEST(scorer.outputs_per_row() == 3u);
  BOOST_TEST(scorer.schema().class_names == (std::vector<std::string>{"0", "1", "2"}));
  BOOST_TEST(!scorer.served().ready);

  std::vector<float> rows(2 * 64);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i % 13) / 13.0f;
  std::vector<float> out(2 * 3, -1.0f);
  BOOST_TEST(!scorer.Score(rows.data(), 2, out.data()).ok());  // not ready yet
  scorer.SetReady(true);
  auto version = scorer.Score(rows.data(), 2, out.data());
  BOOST_REQUIRE_MESSAGE(version.ok(), version.status().ToString());
  BOOST_TEST(*version == 0u);
  auto expected = shared->Score(shared->initial_adapter(), BatchView{rows.data(), 2, 64});
  BOOST_REQUIRE(expected.ok());
  BOOST_REQUIRE(expected->size() == 6u);
  for (size_t r = 0; r < 2; ++r) {
    BOOST_TEST(std::fabs(out[r * 3] + out[r * 3 + 1] + out[r * 3 + 2] - 1.0f) < 1e-6f);
    for (size_t k = 0; k < 3; ++k) BOOST_TEST(out[r * 3 + k] == (*expected)[r * 3 + k]);
  }
  BOOST_TEST(scorer.served().ready);
}
