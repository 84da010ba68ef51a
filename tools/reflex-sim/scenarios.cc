#include "scenarios.h"

#include <random>

namespace reflex::sim {

namespace {

constexpr size_t kDims = 10;

struct Generator {
  std::mt19937_64 rng;
  double Normal(double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng); }
  bool Bernoulli(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p; }
};

void AddRow(LabeledData& d, const std::vector<double>& row, bool positive) {
  for (double v : row) d.features.push_back(static_cast<float>(v));
  d.labels.push_back(positive ? 1 : 0);
}

LabeledData Empty(std::vector<std::string> names) {
  LabeledData d;
  d.feature_names = std::move(names);
  return d;
}

// The original fraud generator.
LabeledData SeedRows(Generator& g, size_t n, bool drifted) {
  LabeledData d = Empty({"V1", "V2", "V3", "V4", "V7", "V10", "V12", "V14", "V17", "Amount"});
  for (size_t i = 0; i < n; ++i) {
    bool fraud = g.Bernoulli(0.15);
    std::vector<double> row(kDims);
    for (double& v : row) v = g.Normal(0, 1);
    row[7] = fraud ? g.Normal(-2.5, 0.8) : g.Normal(drifted ? -2.2 : 0.0, 1.0);
    AddRow(d, row, fraud);
  }
  return d;
}

// Five informative features; positives shift them by `signal` standard deviations.
LabeledData SignalRows(Generator& g, size_t n, double prior, double strength, bool recalibrated) {
  static const double kSignal[5] = {1.5, -1.4, 1.3, 1.2, -1.0};
  static const double kScale[3] = {1.0, 1.0, 1.0};
  static const double kOffset[3] = {2.0, -2.0, 1.5};
  LabeledData d = Empty({"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"});
  for (size_t i = 0; i < n; ++i) {
    bool positive = g.Bernoulli(prior);
    std::vector<double> row(kDims);
    for (size_t f = 0; f < kDims; ++f) row[f] = g.Normal(0, 1) + (positive && f < 5 ? strength * kSignal[f] : 0.0);
    if (recalibrated) {
      for (size_t f = 0; f < 3; ++f) row[f] = row[f] * kScale[f] + kOffset[f];
    }
    AddRow(d, row, positive);
  }
  return d;
}

}  // namespace

Result<ScenarioData> MakeScenario(const std::string& name, uint64_t seed) {
  Generator g{std::mt19937_64(seed * 7919 + 17)};
  ScenarioData s;
  s.name = name;
  if (name == "seed") {
    s.train = SeedRows(g, 5000, false);
    s.stream = SeedRows(g, 25 * 100, true);
    s.oracle_train = SeedRows(g, 5000, true);
    s.rules_text = "# The original's rule: very low V14 means fraud.\nrule v14_low: V14 < -1.5 => positive\n";
    s.monitored = {7};
    s.is_seed = true;
  } else if (name == "recalibration") {
    s.train = SignalRows(g, 5000, 0.15, 1.0, false);
    s.stream = SignalRows(g, 40 * 100, 0.15, 1.0, true);
    s.oracle_train = SignalRows(g, 5000, 0.15, 1.0, true);
  } else if (name == "prior") {
    s.train = SignalRows(g, 5000, 0.15, 0.7, false);
    s.stream = SignalRows(g, 40 * 100, 0.40, 0.7, false);
    s.oracle_train = SignalRows(g, 5000, 0.40, 0.7, false);
  } else {
    return Status::InvalidArgument("unknown scenario '" + name + "' (choose seed, recalibration or prior)");
  }
  return s;
}

}  // namespace reflex::sim
