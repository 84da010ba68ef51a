#define BOOST_TEST_MODULE model_fused_forward
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "model/fused_forward.h"
#include "model/healable_model.h"

namespace reflex {
namespace {

// An adapter far from identity (every weight random), so the adapter's arithmetic is exercised.
AdapterVersion RandomAdapter(const HealableModel& model, uint64_t seed) {
  AdapterVersion a = model.initial_adapter();
  std::mt19937 rng(seed);
  std::normal_distribution<float> w(0, 0.3f);
  for (float& v : a.weights) v = w(rng);
  a.version = 1;
  a.Seal();
  return a;
}

std::vector<float> RandomRows(size_t n, size_t cols, uint64_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> rows(n * cols);
  for (float& v : rows) v = u(rng);
  return rows;
}

float MaxDifference(const std::vector<float>& a, const std::vector<float>& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

// Scores `n` rows with the fused Score and the LibTorch ScoreReference; the largest difference.
float FusedAgainstLibTorch(const HealableModel& model, const CompiledAdapter& adapter, size_t n, float lo, float hi) {
  const std::vector<float> rows = RandomRows(n, model.input_dims(), n + 11, lo, hi);
  std::vector<float> fused(n * model.outputs_per_row()), reference(fused.size());
  const BatchView view{rows.data(), n, model.input_dims()};
  BOOST_REQUIRE(model.Score(adapter, view, fused.data()).ok());
  BOOST_REQUIRE(model.ScoreReference(adapter, view, reference.data()).ok());
  return MaxDifference(fused, reference);
}

BOOST_AUTO_TEST_CASE(FusedMlpForwardEqualsLibTorchToOneInHundredThousand) {
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("f" + std::to_string(i));
  auto model = HealableModel::CreateMlp(names, 5);
  BOOST_REQUIRE(model.ok());
  for (const AdapterVersion& version : {(*model)->initial_adapter(), RandomAdapter(**model, 3)}) {
    auto compiled = (*model)->Compile(version);
    BOOST_REQUIRE(compiled.ok());
    // 1 row (GEMV), small and 64-row batches, and 300 rows (two blocks of the blocked pass).
    for (size_t n : {1, 2, 7, 64, 256, 300}) {
      BOOST_TEST_CONTEXT("rows " << n << ", adapter version " << version.version) {
        BOOST_TEST(FusedAgainstLibTorch(**model, **compiled, n, -3, 3) <= 1e-5f);
        BOOST_TEST(FusedAgainstLibTorch(**model, **compiled, n, -40, 40) <= 1e-5f);  // saturated units
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(FusedAdapterAndSoftmaxHeadEqualLibTorchBehindTheCnnBackbone) {
  auto model = HealableModel::CreateImageCnn(8, 8, 4, 9, 16);
  BOOST_REQUIRE(model.ok());
  auto compiled = (*model)->Compile(RandomAdapter(**model, 4));
  BOOST_REQUIRE(compiled.ok());
  for (size_t n : {1, 5, 257}) {
    BOOST_TEST_CONTEXT("rows " << n) { BOOST_TEST(FusedAgainstLibTorch(**model, **compiled, n, 0, 1) <= 1e-5f); }
  }
  // ScoreEmbedded (fused adapter and head) equals the whole reference pass.
  const size_t n = 33, width = (*model)->adapter_dims().width;
  const std::vector<float> rows = RandomRows(n, (*model)->input_dims(), 8, 0, 1);
  std::vector<float> hidden(n * width), embedded(n * 4), reference(n * 4);
  BOOST_REQUIRE((*model)->Embed({rows.data(), n, (*model)->input_dims()}, hidden.data()).ok());
  BOOST_REQUIRE((*model)->ScoreEmbedded(**compiled, {hidden.data(), n, width}, embedded.data()).ok());
  BOOST_REQUIRE((*model)->ScoreReference(**compiled, {rows.data(), n, (*model)->input_dims()}, reference.data()).ok());
  BOOST_TEST(MaxDifference(embedded, reference) <= 1e-5f);
}

BOOST_AUTO_TEST_CASE(ElementwisePassesMatchTheStandardLibrary) {
  std::vector<float> x;
  for (float v = -30.0f; v <= 30.0f; v += 0.0137f) x.push_back(v);
  x.insert(x.end(), {0.0f, 1e-8f, -1e-8f, 88.0f, -88.0f, 200.0f, -200.0f});
  std::vector<float> t = x, s = x;
  fused::TanhInPlace(t.data(), t.size());
  fused::SigmoidInPlace(s.data(), s.size());
  float tanh_error = 0, sigmoid_error = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    tanh_error = std::max(tanh_error, std::fabs(t[i] - std::tanh(x[i])));
    sigmoid_error = std::max(sigmoid_error, std::fabs(s[i] - 1.0f / (1.0f + std::exp(-x[i]))));
  }
  BOOST_TEST(tanh_error <= 1e-6f);
  BOOST_TEST(sigmoid_error <= 1e-6f);

  std::vector<float> logits = {1.0f, 2.0f, 3.0f, -1000.0f, 0.0f, 1000.0f};
  fused::SoftmaxRows(logits.data(), 2, 3);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  BOOST_TEST(std::fabs(logits[0] - std::exp(1.0) / z) <= 1e-6);
  BOOST_TEST(std::fabs(logits[2] - std::exp(3.0) / z) <= 1e-6);
  BOOST_TEST(logits[5] == 1.0f);
  BOOST_TEST(logits[3] <= 1e-30f);  // exp clamps at -87: a denormal-sized probability, not 0
}

}  // namespace
}  // namespace reflex
