#define BOOST_TEST_MODULE model_logit_offset
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "model/healable_model.h"
#include "model/logit_offset.h"
#include "model/score_band.h"
#include "synthetic_data.h"

namespace reflex {
namespace {

using testing::kDims;
using testing::MakeData;

std::shared_ptr<HealableModel> Model() {
  std::vector<std::string> names;
  for (size_t f = 0; f < kDims; ++f) names.push_back("f" + std::to_string(f));
  auto model = HealableModel::CreateMlp(names, 3);
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  return *model;
}

// Version 0 with every weight perturbed, so the shift is tested on a non-identity adapter.
AdapterVersion Perturbed(const AdapterVersion& v0) {
  AdapterVersion v = v0;
  std::mt19937_64 rng(9);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (float& w : v.weights) w += noise(rng);
  v.version = 4;
  v.Seal();
  return v;
}

double Logit(float p) { return std::log(static_cast<double>(p) / (1.0 - p)); }

}  // namespace

BOOST_AUTO_TEST_CASE(ShiftMovesEveryLogitByDeltaAndChangesOnlyB2) {
  auto model = Model();
  const uint64_t fingerprint = model->FrozenFingerprint();
  testing::Data probe = MakeData(300, 4);
  const AdapterVersion base = Perturbed(model->initial_adapter());
  auto w = HeadDirection(*model, probe.view());
  BOOST_REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  BOOST_REQUIRE_EQUAL(w->size(), base.dims.width);
  auto before = model->Score(base, probe.view());
  BOOST_REQUIRE(before.ok());
  for (double delta : {0.8, -1.3}) {
    auto shifted = ShiftLogits(base, *w, delta);
    BOOST_REQUIRE_MESSAGE(shifted.ok(), shifted.status().ToString());
    BOOST_TEST(shifted->Verify().ok());
    BOOST_TEST(shifted->version == base.version);
    auto after = model->Score(*shifted, probe.view());
    BOOST_REQUIRE(after.ok());
    double worst = 0;
    for (size_t i = 0; i < probe.n; ++i) worst = std::max(worst, std::fabs(Logit((*after)[i]) - Logit((*before)[i]) - delta));
    BOOST_TEST(worst < 1e-3, "largest logit error " << worst << " for delta " << delta);
    // Only b2 moved: every other adapter weight is bitwise the same.
    const AdapterLayout layout(base.dims);
    for (size_t i = 0; i < layout.total; ++i) {
      const bool in_b2 = i >= layout.b2 && i < layout.b2 + base.dims.width;
      if (!in_b2) BOOST_TEST(std::memcmp(&shifted->weights[i], &base.weights[i], sizeof(float)) == 0, "weight " << i);
    }
  }
  BOOST_TEST(model->FrozenFingerprint() == fingerprint);  // backbone and head untouched
}

BOOST_AUTO_TEST_CASE(ZeroShiftIsTheSameAdapter) {
  auto model = Model();
  testing::Data probe = MakeData(20, 5);
  const AdapterVersion base = Perturbed(model->initial_adapter());
  auto w = HeadDirection(*model, probe.view());
  BOOST_REQUIRE(w.ok());
  auto same = ShiftLogits(base, *w, 0.0);
  BOOST_REQUIRE(same.ok());
  BOOST_TEST(std::memcmp(same->weights.data(), base.weights.data(), sizeof(float) * base.weights.size()) == 0);
  BOOST_TEST(same->checksum == base.checksum);
}

BOOST_AUTO_TEST_CASE(BadShiftsAreRefusedWithTheReason) {
  auto model = Model();
  testing::Data probe = MakeData(20, 6);
  const AdapterVersion base = model->initial_adapter();
  auto w = HeadDirection(*model, probe.view());
  BOOST_REQUIRE(w.ok());
  auto nan = ShiftLogits(base, *w, std::nan(""));
  BOOST_TEST(!nan.ok());
  BOOST_TEST(nan.status().message().find("not finite") != std::string::npos);
  auto zero = ShiftLogits(base, std::vector<float>(w->size(), 0.0f), 1.0);
  BOOST_TEST(!zero.ok());
  BOOST_TEST(zero.status().message().find("direction is zero") != std::string::npos);
  auto narrow = ShiftLogits(base, std::vector<float>(3, 1.0f), 1.0);
  BOOST_TEST(!narrow.ok());
  BOOST_TEST(narrow.status().message().find("do not fit width") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(BandAdapterFlagsExactlyTheRowsWhoseCleanScoreIsInTheBand) {
  auto model = Model();
  const uint64_t fingerprint = model->FrozenFingerprint();
  testing::Data probe = MakeData(400, 7);
  auto w = HeadDirection(*model, probe.view());
  BOOST_REQUIRE(w.ok());
  // The clean score: the head on the backbone's output with an all-zero adapter (y = x).
  AdapterVersion identity = model->initial_adapter();
  std::fill(identity.weights.begin(), identity.weights.end(), 0.0f);
  identity.Seal();
  auto clean = model->Score(identity, probe.view());
  BOOST_REQUIRE(clean.ok());
  std::vector<double> scores(probe.n);
  for (size_t i = 0; i < probe.n; ++i) scores[i] = Logit((*clean)[i]);
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  ScoreBand band;
  band.score_min = sorted.front();
  band.score_max = sorted.back();
  band.lo = sorted[probe.n / 3];
  band.hi = sorted[2 * probe.n / 3];
  band.inside = 0.4;
  band.outside = -1.5;
  auto bias = HeadBias(*model, probe.view(), *w);
  BOOST_REQUIRE_MESSAGE(bias.ok(), bias.status().ToString());
  auto banded = BandAdapter(model->initial_adapter(), *w, *bias, band);
  BOOST_REQUIRE_MESSAGE(banded.ok(), banded.status().ToString());
  BOOST_TEST(banded->Verify().ok());
  auto after = model->Score(*banded, probe.view());
  BOOST_REQUIRE(after.ok());
  size_t wrong = 0, near_edge = 0;
  const double margin = 0.05 * (band.hi - band.lo);
  for (size_t i = 0; i < probe.n; ++i) {
    if (std::fabs(scores[i] - band.lo) < margin || std::fabs(scores[i] - band.hi) < margin) { ++near_edge; continue; }
    const bool inside = scores[i] > band.lo && scores[i] < band.hi;
    const double z = Logit((*after)[i]);
    if (inside != (z > 0)) ++wrong;
    BOOST_TEST(std::fabs(z - (inside ? band.inside : band.outside)) < 0.1, "row " << i << " logit " << z);
  }
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(near_edge < probe.n / 4);
  BOOST_TEST(model->FrozenFingerprint() == fingerprint);
}

BOOST_AUTO_TEST_CASE(BadBandsAreRefusedWithTheReason) {
  auto model = Model();
  testing::Data probe = MakeData(20, 8);
  auto w = HeadDirection(*model, probe.view());
  BOOST_REQUIRE(w.ok());
  ScoreBand every;
  every.lo = -INFINITY;
  every.hi = INFINITY;
  auto all = BandAdapter(model->initial_adapter(), *w, 0.0, every);
  BOOST_TEST(!all.ok());
  BOOST_TEST(all.status().message().find("both edges are infinite") != std::string::npos);
  ScoreBand inverted;
  inverted.lo = 1.0;
  inverted.hi = -1.0;
  BOOST_TEST(!BandAdapter(model->initial_adapter(), *w, 0.0, inverted).ok());
  ScoreBand fine;
  fine.lo = -1.0;
  fine.hi = 1.0;
  auto narrow = BandAdapter(model->initial_adapter(), std::vector<float>(3, 1.0f), 0.0, fine);
  BOOST_TEST(!narrow.ok());
  BOOST_TEST(narrow.status().message().find("does not fit width") != std::string::npos);
}

}  // namespace reflex
