#define BOOST_TEST_MODULE model_healable_model
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "model/healable_model.h"

namespace reflex {
namespace {

std::vector<std::string> Names(size_t n) {
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) names.push_back("f" + std::to_string(i));
  return names;
}

std::vector<float> RandomRows(size_t n, size_t dims, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> rows(n * dims);
  for (float& v : rows) v = normal(rng);
  return rows;
}

std::shared_ptr<HealableModel> Mlp(uint64_t seed = 3) {
  auto model = HealableModel::CreateMlp(Names(10), seed);
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

}  // namespace

BOOST_AUTO_TEST_CASE(CompiledAdapterScoresLikeTheVersionItCameFrom) {
  auto model = Mlp();
  std::vector<float> rows = RandomRows(64, 10, 1);
  BatchView view{rows.data(), 64, 10};

  auto compiled = model->Compile(model->initial_adapter());
  BOOST_REQUIRE_MESSAGE(compiled.ok(), compiled.status().ToString());
  std::vector<float> via_compiled(64, -1.0f);
  BOOST_REQUIRE(model->Score(**compiled, view, via_compiled.data()).ok());
  auto via_version = model->Score(model->initial_adapter(), view);
  BOOST_REQUIRE_MESSAGE(via_version.ok(), via_version.status().ToString());

  BOOST_REQUIRE_EQUAL(via_version->size(), 64u);
  for (size_t i = 0; i < 64; ++i) {
    BOOST_TEST(via_compiled[i] == (*via_version)[i]);
    BOOST_TEST(via_compiled[i] >= 0.0f);
    BOOST_TEST(via_compiled[i] <= 1.0f);
  }
}

BOOST_AUTO_TEST_CASE(RefusesAdapterOfWrongDimsNamingBoth) {
  auto model = Mlp();
  AdapterVersion wrong;
  wrong.version = 4;
  wrong.dims = {32, 16};
  wrong.weights.assign(AdapterWeightCount(wrong.dims), 0.0f);
  wrong.Seal();
  BOOST_REQUIRE(wrong.Verify().ok());

  auto compiled = model->Compile(wrong);
  BOOST_REQUIRE(!compiled.ok());
  BOOST_TEST(static_cast<int>(compiled.status().code()) == static_cast<int>(StatusCode::kInvalidArgument));
  const std::string& m = compiled.status().message();
  BOOST_TEST_MESSAGE(m);
  BOOST_TEST(m.find("32x16") != std::string::npos);
  BOOST_TEST(m.find("64x64") != std::string::npos);

  std::vector<float> rows = RandomRows(4, 10, 2);
  BOOST_TEST(!model->Score(wrong, BatchView{rows.data(), 4, 10}).ok());
}

BOOST_AUTO_TEST_CASE(RefusesUnsealedOrNonFiniteAdapters) {
  auto model = Mlp();
  AdapterVersion garbled = model->initial_adapter();
  garbled.weights[3] += 1.0f;  // not resealed
  auto c1 = model->Compile(garbled);
  BOOST_REQUIRE(!c1.ok());
  BOOST_TEST(static_cast<int>(c1.status().code()) == static_cast<int>(StatusCode::kCorruption));

  AdapterVersion nan = model->initial_adapter();
  nan.weights[5] = std::nanf("");
  nan.Seal();
  auto c2 = model->Compile(nan);
  BOOST_REQUIRE(!c2.ok());
  BOOST_TEST(static_cast<int>(c2.status().code()) == static_cast<int>(StatusCode::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(RefusesRowsWithWrongColumnCount) {
  auto model = Mlp();
  std::vector<float> rows = RandomRows(8, 9, 3);
  auto compiled = model->Compile(model->initial_adapter());
  BOOST_REQUIRE(compiled.ok());
  std::vector<float> probs(8);
  Status s = model->Score(**compiled, BatchView{rows.data(), 8, 9}, probs.data());
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(static_cast<int>(s.code()) == static_cast<int>(StatusCode::kInvalidArgument));
  BOOST_TEST_MESSAGE(s.message());
  BOOST_TEST(s.message().find('9') != std::string::npos);
  BOOST_TEST(s.message().find("10") != std::string::npos);

  auto by_version = model->Score(model->initial_adapter(), BatchView{rows.data(), 8, 9});
  BOOST_TEST(!by_version.ok());
}

BOOST_AUTO_TEST_CASE(InitialAdapterOfANewMlpIsTheIdentity) {
  auto model = Mlp();
  const AdapterVersion& v0 = model->initial_adapter();
  BOOST_TEST(v0.version == 0u);
  BOOST_TEST(v0.Verify().ok());
  BOOST_TEST(v0.dims.width == 64u);
  BOOST_TEST(v0.dims.hidden == 64u);
  BOOST_TEST((model->adapter_dims() == v0.dims));
  const AdapterLayout layout(v0.dims);
  BOOST_REQUIRE_EQUAL(v0.weights.size(), layout.total);
  for (size_t i = layout.w2; i < layout.b2 + v0.dims.width; ++i) BOOST_TEST_REQUIRE(v0.weights[i] == 0.0f);  // W2, b2
  BOOST_TEST(v0.weights[layout.scale] == 0.1f);

  // With W2 = 0 and b2 = 0 the adapter passes the backbone output through: any other W1, b1 and
  // scale score exactly the same.
  AdapterVersion other = v0;
  other.version = 1;
  for (size_t i = layout.w1; i < layout.w2; ++i) other.weights[i] = 0.5f * std::sin(static_cast<float>(i));  // W1, b1
  other.weights[layout.scale] = 3.0f;
  other.Seal();
  std::vector<float> rows = RandomRows(32, 10, 4);
  BatchView view{rows.data(), 32, 10};
  auto a = model->Score(v0, view);
  auto b = model->Score(other, view);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  for (size_t i = 0; i < 32; ++i) BOOST_TEST((*a)[i] == (*b)[i]);
}

BOOST_AUTO_TEST_CASE(FrozenFingerprintIsStableAndTellsModelsApart) {
  auto a = Mlp(3);
  auto b = Mlp(3);
  auto c = Mlp(4);
  BOOST_TEST(a->FrozenFingerprint() == a->FrozenFingerprint());
  BOOST_TEST(a->FrozenFingerprint() == b->FrozenFingerprint());
  BOOST_TEST(a->FrozenFingerprint() != c->FrozenFingerprint());
}

BOOST_AUTO_TEST_CASE(ScoringAnEmptyBatchIsFine) {
  auto model = Mlp();
  auto probs = model->Score(model->initial_adapter(), BatchView{nullptr, 0, 10});
  BOOST_REQUIRE(probs.ok());
  BOOST_TEST(probs->empty());
}

}  // namespace reflex
