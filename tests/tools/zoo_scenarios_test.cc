#define BOOST_TEST_MODULE tools_zoo_scenarios
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "reflex-sim/zoo_scenarios.h"

// What the drift zoo's families promise: determinism in the seed, a wide family per name, a
// clean prefix, and the distributional properties each family is named for. Statistical checks
// compare means with a 4-sigma tolerance (so they are not flaky) on fixed seeds.
using reflex::LabeledData;
using reflex::sim::MakeZooScenario;
using reflex::sim::ZooFamilies;
using reflex::sim::ZooScenario;

namespace {

ZooScenario Make(const std::string& family, uint64_t seed) {
  auto s = MakeZooScenario(family, seed);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(*s);
}

// Mean and variance of feature f over rows [begin, end) whose label is `label` (-1: all rows).
struct Moments {
  double mean = 0, var = 0;
  size_t n = 0;
};

Moments Of(const LabeledData& d, size_t f, size_t begin, size_t end, int label = -1) {
  Moments m;
  double sum = 0, sq = 0;
  for (size_t r = begin; r < end; ++r) {
    if (label >= 0 && d.labels[r] != label) continue;
    const double x = d.features[r * d.dims() + f];
    sum += x;
    sq += x * x;
    ++m.n;
  }
  if (m.n == 0) return m;
  m.mean = sum / m.n;
  m.var = std::max(0.0, sq / m.n - m.mean * m.mean);
  return m;
}

// Whether two samples' means agree within 4 standard errors.
bool SameMean(const Moments& a, const Moments& b) {
  return std::fabs(a.mean - b.mean) <= 4 * std::sqrt(a.var / a.n + b.var / b.n) + 1e-9;
}

double PositiveRate(const LabeledData& d, size_t begin, size_t end) {
  size_t positives = 0;
  for (size_t r = begin; r < end; ++r) positives += d.labels[r];
  return static_cast<double>(positives) / (end - begin);
}

// First stream row after the clean prefix.
size_t Onset(const ZooScenario& s) {
  size_t b = 0;
  while (b < s.intensity.size() && s.intensity[b] == 0) ++b;
  return b * s.data.batch_size;
}

}  // namespace

BOOST_AUTO_TEST_CASE(EveryFamilyIsDeterministicInItsSeed) {
  for (const auto& family : ZooFamilies()) {
    BOOST_TEST_CONTEXT(family.name) {
      const ZooScenario a = Make(family.name, 7), b = Make(family.name, 7), c = Make(family.name, 8);
      BOOST_TEST((a.data.train.features == b.data.train.features));
      BOOST_TEST((a.data.stream.features == b.data.stream.features));
      BOOST_TEST((a.data.stream.labels == b.data.stream.labels));
      BOOST_TEST((a.data.oracle_train->features == b.data.oracle_train->features));
      BOOST_TEST((a.params == b.params));
      BOOST_TEST(a.drift == b.drift);
      BOOST_TEST((a.data.stream.features != c.data.stream.features));
      BOOST_TEST(a.data.name == "zoo/" + family.name);
      BOOST_TEST(a.data.batch_size == 100u);
      BOOST_TEST(a.data.train.rows() == 5000u);
      BOOST_TEST(a.data.oracle_train->rows() == 5000u);
      BOOST_TEST(a.data.stream.rows() == a.intensity.size() * 100);
    }
  }
}

BOOST_AUTO_TEST_CASE(DifferentSeedsDrawDifferentDriftParametersAndTasks) {
  for (const auto& family : ZooFamilies()) {
    BOOST_TEST_CONTEXT(family.name) {
      const ZooScenario a = Make(family.name, 1), b = Make(family.name, 2);
      BOOST_TEST(a.task.Describe() != b.task.Describe());
      if (family.name == "none") {
        BOOST_TEST(a.params.empty());
        continue;
      }
      BOOST_TEST(!a.params.empty());
      BOOST_TEST((a.params != b.params));
      BOOST_TEST(a.drift != b.drift);
    }
  }
}

BOOST_AUTO_TEST_CASE(TheStreamStartsWithTheCleanPrefixDistributedAsTrain) {
  for (const auto& family : ZooFamilies()) {
    BOOST_TEST_CONTEXT(family.name) {
      const ZooScenario s = Make(family.name, 3);
      const reflex::sim::ZooShape shape;
      BOOST_REQUIRE(s.intensity.size() == shape.stream_batches);
      BOOST_REQUIRE(shape.clean_batches >= 4u);
      for (size_t b = 0; b < shape.clean_batches; ++b) BOOST_TEST(s.intensity[b] == 0.0);
      if (family.name != "none") BOOST_TEST(s.intensity[shape.clean_batches] > 0.0);
      const LabeledData& train = s.data.train;
      for (size_t f = 0; f < train.dims(); ++f) {
        BOOST_TEST_INFO("feature " << f);
        BOOST_TEST(SameMean(Of(s.data.stream, f, 0, shape.clean_batches * 100), Of(train, f, 0, train.rows())));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(AnOffsetMovesItsFeaturesByTheDrawnOffset) {
  for (uint64_t seed : {1, 2, 3}) {
    const ZooScenario s = Make("offset", seed);
    const size_t onset = Onset(s), end = s.data.stream.rows();
    for (const auto& [key, offset] : s.params) {
      if (key.rfind("offset.x", 0) != 0) continue;
      const size_t f = std::stoul(key.substr(8));
      Moments drifted = Of(s.data.stream, f, onset, end), clean = Of(s.data.train, f, 0, s.data.train.rows());
      clean.mean += offset;
      BOOST_TEST_INFO("seed " << seed << " " << key);
      BOOST_TEST(SameMean(drifted, clean));
      BOOST_TEST(std::fabs(offset) >= 0.7);  // at least one scale (>= 0.7) of the feature
    }
  }
}

BOOST_AUTO_TEST_CASE(TheNoneFamilysStreamIsDistributedAsTrain) {
  for (uint64_t seed : {1, 2}) {
    const ZooScenario s = Make("none", seed);
    const LabeledData& train = s.data.train;
    const size_t n = s.data.stream.rows();
    for (size_t f = 0; f < train.dims(); ++f) {
      const Moments a = Of(s.data.stream, f, 0, n), b = Of(train, f, 0, train.rows());
      BOOST_TEST_INFO("seed " << seed << " feature " << f);
      BOOST_TEST(SameMean(a, b));
      BOOST_TEST(std::fabs(std::sqrt(a.var) / std::sqrt(b.var) - 1) < 0.1);
    }
    const double p = PositiveRate(train, 0, train.rows());
    BOOST_TEST(std::fabs(PositiveRate(s.data.stream, 0, n) - p) < 4 * std::sqrt(p * (1 - p) / n) + 0.01);
  }
}

BOOST_AUTO_TEST_CASE(LabelShiftMovesThePositiveRateAndNotTheClassConditionalMeans) {
  for (const std::string family : {"label_up", "label_down", "label_majority"}) {
    for (uint64_t seed : {1, 2, 3}) {
      BOOST_TEST_CONTEXT(family << " seed " << seed) {
        const ZooScenario s = Make(family, seed);
        const size_t onset = Onset(s), end = s.data.stream.rows();
        const double drifted = PositiveRate(s.data.stream, onset, end), target = s.params.at("prior");
        BOOST_TEST(std::fabs(drifted - target) < 0.05);
        if (family == "label_up") BOOST_TEST(target > s.task.prior * 1.7);
        if (family == "label_down") BOOST_TEST(target < s.task.prior * 0.55);
        if (family == "label_majority") BOOST_TEST(target > 0.5);
        const LabeledData& train = s.data.train;
        for (size_t f = 0; f < train.dims(); ++f) {
          for (int label : {0, 1}) {
            BOOST_TEST_INFO("feature " << f << " class " << label);
            BOOST_TEST(SameMean(Of(s.data.stream, f, onset, end, label), Of(train, f, 0, train.rows(), label)));
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ConceptDriftKeepsTheFeatureDistributionAndChangesTheLabels) {
  for (uint64_t seed : {1, 2, 3}) {
    const ZooScenario s = Make("concept", seed);
    BOOST_REQUIRE(s.plan.concept.has_value());
    const LabeledData &train = s.data.train, &oracle = *s.data.oracle_train;
    for (size_t f = 0; f < train.dims(); ++f) {
      const Moments a = Of(oracle, f, 0, oracle.rows()), b = Of(train, f, 0, train.rows());
      BOOST_TEST_INFO("seed " << seed << " feature " << f);
      BOOST_TEST(SameMean(a, b));
      BOOST_TEST(std::fabs(std::sqrt(a.var) / std::sqrt(b.var) - 1) < 0.1);
    }
    // P(y | x) moved as planned: in the flip region a label flips with probability q, so the
    // region's positive rate p becomes p + q (1 - 2 p); outside it nothing changes.
    const size_t f = s.plan.concept->feature;
    const double cut = s.task.loc[f] + s.task.scale[f] * s.plan.concept->threshold, q = s.plan.concept->flip_probability;
    auto rate = [&](const LabeledData& d, bool inside, size_t* n) {
      size_t positives = 0;
      *n = 0;
      for (size_t r = 0; r < d.rows(); ++r) {
        if ((d.features[r * d.dims() + f] > cut) != inside) continue;
        ++*n;
        positives += d.labels[r];
      }
      return static_cast<double>(positives) / *n;
    };
    for (bool inside : {true, false}) {
      size_t n_clean = 0, n_drifted = 0;
      const double p = rate(train, inside, &n_clean), drifted = rate(oracle, inside, &n_drifted);
      const double expected = inside ? p + q * (1 - 2 * p) : p;
      const double se = std::sqrt(p * (1 - p) / n_clean + expected * (1 - expected) / n_drifted);
      BOOST_TEST_INFO("seed " << seed << (inside ? " inside" : " outside") << " the flip region");
      BOOST_TEST(std::fabs(drifted - expected) < 4 * se + 0.01);
    }
    BOOST_TEST(q >= 0.5);  // the Bayes decision inverts inside the region
  }
}

BOOST_AUTO_TEST_CASE(RecurringDriftEndsWithACleanFinalThird) {
  for (uint64_t seed : {1, 2, 3}) {
    const ZooScenario s = Make("recurring", seed);
    const size_t n = s.intensity.size();
    size_t switches = 0;
    for (size_t b = 1; b < n; ++b) switches += s.intensity[b] != s.intensity[b - 1];
    BOOST_TEST(switches >= 2u, "seed " << seed);
    for (size_t b = n - n / 3; b < n; ++b) BOOST_TEST(s.intensity[b] == 0.0, "seed " << seed << " batch " << b);
    BOOST_TEST(!s.note.empty());
  }
}

BOOST_AUTO_TEST_CASE(AnUnknownFamilyIsRefusedWithTheListOfFamilies) {
  auto s = MakeZooScenario("tsunami", 1);
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST((s.status().code() == reflex::StatusCode::kInvalidArgument));
  BOOST_TEST(s.status().message().find("gain_offset") != std::string::npos, s.status().message());
  BOOST_TEST(ZooFamilies().size() == 14u);
}
