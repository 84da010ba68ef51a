#include "zoo_task.h"

#include <cmath>
#include <sstream>

namespace reflex::sim {

namespace {

constexpr size_t kZooDims = 10;

double Uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
double Normal(std::mt19937_64& rng, double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng); }

const char* KindName(ZooSignal::Kind kind) {
  switch (kind) {
    case ZooSignal::Kind::kShift: return "shift";
    case ZooSignal::Kind::kBimodal: return "bimodal";
    case ZooSignal::Kind::kSpread: return "spread";
  }
  return "?";
}

ZooSignal DrawSignal(std::mt19937_64& rng, size_t feature, ZooSignal::Kind kind) {
  ZooSignal s{feature, kind, 0};
  switch (kind) {
    case ZooSignal::Kind::kShift: s.strength = Uniform(rng, 1.0, 1.6) * (Uniform(rng, 0, 1) < 0.5 ? -1 : 1); break;
    case ZooSignal::Kind::kBimodal: s.strength = Uniform(rng, 1.6, 2.2); break;
    case ZooSignal::Kind::kSpread: s.strength = Uniform(rng, 2.0, 2.8); break;
  }
  return s;
}

// z of a positive row on signal feature `s`.
double PositiveZ(const ZooSignal& s, std::mt19937_64& rng) {
  switch (s.kind) {
    case ZooSignal::Kind::kShift: return Normal(rng, s.strength, 1.0);
    case ZooSignal::Kind::kBimodal: return Normal(rng, Uniform(rng, 0, 1) < 0.5 ? -s.strength : s.strength, 0.5);
    case ZooSignal::Kind::kSpread: return Normal(rng, 0.0, s.strength);
  }
  return 0;
}

}  // namespace

std::string ZooTask::Describe() const {
  std::ostringstream out;
  out.precision(2);
  out << std::fixed << "prior " << prior << "; signal";
  for (size_t i = 0; i < signals.size(); ++i) {
    out << (i ? ", " : " ") << feature_names[signals[i].feature] << ' ' << KindName(signals[i].kind) << ' '
        << signals[i].strength;
  }
  return out.str();
}

ZooTask DrawZooTask(std::mt19937_64& rng) {
  ZooTask t;
  for (size_t f = 0; f < kZooDims; ++f) {
    t.feature_names.push_back("x" + std::to_string(f));
    t.loc.push_back(Uniform(rng, -1.0, 1.0));
    t.scale.push_back(Uniform(rng, 0.7, 1.5));
  }
  t.prior = Uniform(rng, 0.1, 0.3);
  std::vector<size_t> order(kZooDims);
  for (size_t f = 0; f < kZooDims; ++f) order[f] = f;
  for (size_t i = kZooDims - 1; i > 0; --i) {
    std::swap(order[i], order[std::uniform_int_distribution<size_t>(0, i)(rng)]);
  }
  const size_t n_signal = Uniform(rng, 0, 1) < 0.5 ? 3 : 4;
  using Kind = ZooSignal::Kind;
  for (size_t i = 0; i < n_signal; ++i) {
    Kind kind = Kind::kShift;
    if (i == 1) kind = Uniform(rng, 0, 1) < 0.5 ? Kind::kBimodal : Kind::kSpread;
    if (i >= 2) kind = static_cast<Kind>(std::uniform_int_distribution<int>(0, 2)(rng));
    t.signals.push_back(DrawSignal(rng, order[i], kind));
  }
  return t;
}

DriftPlan IdentityPlan(const ZooTask& task) {
  DriftPlan p;
  p.gain.assign(task.dims(), 1.0);
  p.offset.assign(task.dims(), 0.0);
  p.noise_sd.assign(task.dims(), 0.0);
  return p;
}

void AppendRows(const ZooTask& task, const DriftPlan& plan, double w, size_t n, std::mt19937_64& rng,
                LabeledData& out) {
  const size_t d = task.dims();
  out.feature_names = task.feature_names;
  const double prior = plan.prior ? (1 - w) * task.prior + w * *plan.prior : task.prior;
  std::vector<double> z(d);
  for (size_t row = 0; row < n; ++row) {
    bool positive = Uniform(rng, 0, 1) < prior;
    for (size_t f = 0; f < d; ++f) z[f] = Normal(rng, 0.0, 1.0);
    if (positive) {
      for (const ZooSignal& s : task.signals) z[s.feature] = PositiveZ(s, rng);
    }
    if (plan.rotation && w > 0) {
      const double angle = w * plan.rotation->radians, za = z[plan.rotation->a], zb = z[plan.rotation->b];
      z[plan.rotation->a] = std::cos(angle) * za - std::sin(angle) * zb;
      z[plan.rotation->b] = std::sin(angle) * za + std::cos(angle) * zb;
    }
    if (plan.concept && w > 0 && z[plan.concept->feature] > plan.concept->threshold &&
        Uniform(rng, 0, 1) < w * plan.concept->flip_probability) {
      positive = !positive;
    }
    for (size_t f = 0; f < d; ++f) {
      double x = task.loc[f] + task.scale[f] * z[f];
      x += w * ((plan.gain[f] - 1) * x + plan.offset[f]);
      if (plan.noise_sd[f] > 0 && w > 0) x += w * Normal(rng, 0.0, plan.noise_sd[f]);
      if (plan.stuck && plan.stuck->feature == f) x = (1 - w) * x + w * plan.stuck->value;
      out.features.push_back(static_cast<float>(x));
    }
    out.labels.push_back(positive ? 1 : 0);
  }
}

}  // namespace reflex::sim
