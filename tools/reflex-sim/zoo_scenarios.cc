#include "zoo_scenarios.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace reflex::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

enum class Schedule { kNone, kStep, kRamp, kRecurring };

// What a family draws: the plan, its parameters, and when it applies.
struct Draw {
  DriftPlan plan;
  std::map<std::string, double> params;
  std::ostringstream drift;
  Schedule schedule = Schedule::kStep;
  std::string note;
};

using Rng = std::mt19937_64;
using DrawFn = void (*)(const ZooTask&, Rng&, Draw&);

// A generator for (seed, tag, salt): streams of different purposes never share draws.
Rng MakeRng(uint64_t seed, const std::string& tag, uint32_t salt) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across platforms, unlike std::hash
  for (unsigned char c : tag) h = (h ^ c) * 1099511628211ull;
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(h),
                    static_cast<uint32_t>(h >> 32), salt};
  return Rng(seq);
}

double Uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int UniformInt(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
double Sign(Rng& rng) { return Uniform(rng, 0, 1) < 0.5 ? -1.0 : 1.0; }

std::string Num(double v) {
  std::ostringstream out;
  out.precision(2);
  out << std::fixed << v;
  return out.str();
}

// `k` distinct features, the first a signal feature.
std::vector<size_t> PickFeatures(const ZooTask& task, Rng& rng, size_t k) {
  std::vector<size_t> out{task.signals[UniformInt(rng, 0, static_cast<int>(task.signals.size()) - 1)].feature};
  while (out.size() < k) {
    size_t f = static_cast<size_t>(UniformInt(rng, 0, static_cast<int>(task.dims()) - 1));
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

// Offsets of +-[lo, hi] scales on `k` features.
void AddOffsets(const ZooTask& task, Rng& rng, Draw& d, size_t k, double lo, double hi) {
  d.drift << "offset";
  for (size_t f : PickFeatures(task, rng, k)) {
    d.plan.offset[f] = Sign(rng) * Uniform(rng, lo, hi) * task.scale[f];
    d.params["offset." + task.feature_names[f]] = d.plan.offset[f];
    d.drift << ' ' << task.feature_names[f] << (d.plan.offset[f] >= 0 ? "+" : "") << Num(d.plan.offset[f]);
  }
}

void SetPrior(const ZooTask& task, Draw& d, double prior) {
  d.plan.prior = prior;
  d.params["prior"] = prior;
  d.drift << "positive rate " << Num(task.prior) << " -> " << Num(prior);
}

void DrawOffset(const ZooTask& t, Rng& rng, Draw& d) { AddOffsets(t, rng, d, UniformInt(rng, 1, 3), 1.0, 3.0); }

void DrawGainOffset(const ZooTask& t, Rng& rng, Draw& d) {
  d.drift << "gain, offset";
  for (size_t f : PickFeatures(t, rng, UniformInt(rng, 1, 3))) {
    d.plan.gain[f] = std::exp(Sign(rng) * Uniform(rng, std::log(1.3), std::log(2.2)));
    d.plan.offset[f] = Sign(rng) * Uniform(rng, 0.5, 2.0) * t.scale[f];
    d.params["gain." + t.feature_names[f]] = d.plan.gain[f];
    d.params["offset." + t.feature_names[f]] = d.plan.offset[f];
    d.drift << ' ' << t.feature_names[f] << " -> " << Num(d.plan.gain[f]) << "x" << (d.plan.offset[f] >= 0 ? "+" : "")
            << Num(d.plan.offset[f]);
  }
}

void DrawUnitChange(const ZooTask& t, Rng& rng, Draw& d) {
  struct Unit { const char* name; double gain, offset; };
  static const Unit kUnits[] = {{"Celsius -> Fahrenheit", 1.8, 32.0},
                                {"Fahrenheit -> Celsius", 1 / 1.8, -32.0 / 1.8},
                                {"kg -> lb", 2.20462, 0.0},
                                {"km -> miles", 0.621371, 0.0}};
  const Unit& u = kUnits[UniformInt(rng, 0, 3)];
  const size_t f = PickFeatures(t, rng, 1)[0];
  d.plan.gain[f] = u.gain;
  d.plan.offset[f] = u.offset;
  d.params["gain." + t.feature_names[f]] = u.gain;
  d.params["offset." + t.feature_names[f]] = u.offset;
  d.drift << t.feature_names[f] << " in new units: " << u.name;
}

void DrawRamp(const ZooTask& t, Rng& rng, Draw& d) {
  AddOffsets(t, rng, d, UniformInt(rng, 1, 3), 1.5, 3.0);
  d.schedule = Schedule::kRamp;
  d.note = "oracle trained on the fully ramped-in drift (the stream reaches it only late)";
}

void DrawRecurring(const ZooTask& t, Rng& rng, Draw& d) {
  AddOffsets(t, rng, d, UniformInt(rng, 1, 3), 1.5, 3.0);
  d.schedule = Schedule::kRecurring;
  d.note = "oracle: the drift-trained model on drifted batches, the deployed model on clean ones";
}

void DrawLabelUp(const ZooTask& t, Rng& rng, Draw& d) { SetPrior(t, d, std::min(0.5, t.prior * Uniform(rng, 1.8, 2.5))); }
void DrawLabelDown(const ZooTask& t, Rng& rng, Draw& d) { SetPrior(t, d, t.prior * Uniform(rng, 0.25, 0.5)); }
void DrawLabelMajority(const ZooTask& t, Rng& rng, Draw& d) { SetPrior(t, d, Uniform(rng, 0.55, 0.7)); }

void DrawCovariateLabel(const ZooTask& t, Rng& rng, Draw& d) {
  AddOffsets(t, rng, d, UniformInt(rng, 1, 2), 1.0, 2.5);
  d.drift << "; ";
  const bool up = Uniform(rng, 0, 1) < 0.5;
  SetPrior(t, d, up ? std::min(0.5, t.prior * Uniform(rng, 1.8, 2.5)) : t.prior * Uniform(rng, 0.25, 0.5));
}

void DrawRotation(const ZooTask& t, Rng& rng, Draw& d) {
  const size_t i = static_cast<size_t>(UniformInt(rng, 0, static_cast<int>(t.signals.size()) - 1));
  const size_t j = (i + 1 + static_cast<size_t>(UniformInt(rng, 0, static_cast<int>(t.signals.size()) - 2))) % t.signals.size();
  const double degrees = Sign(rng) * Uniform(rng, 30, 90);
  d.plan.rotation = DriftPlan::Rotation{t.signals[i].feature, t.signals[j].feature, degrees * kPi / 180};
  d.params["rotation_degrees"] = degrees;
  d.drift << "rotation of " << t.feature_names[t.signals[i].feature] << ", " << t.feature_names[t.signals[j].feature]
          << " by " << Num(degrees) << " degrees";
}

void DrawNoise(const ZooTask& t, Rng& rng, Draw& d) {
  d.drift << "noise sd";
  for (size_t f : PickFeatures(t, rng, UniformInt(rng, 1, 3))) {
    d.plan.noise_sd[f] = Uniform(rng, 0.7, 2.0) * t.scale[f];
    d.params["noise_sd." + t.feature_names[f]] = d.plan.noise_sd[f];
    d.drift << ' ' << t.feature_names[f] << ' ' << Num(d.plan.noise_sd[f]);
  }
}

void DrawStuck(const ZooTask& t, Rng& rng, Draw& d) {
  const size_t f = PickFeatures(t, rng, 1)[0];
  d.plan.stuck = DriftPlan::Stuck{f, t.loc[f] + Uniform(rng, -1.5, 1.5) * t.scale[f]};
  d.params["stuck." + t.feature_names[f]] = d.plan.stuck->value;
  d.drift << t.feature_names[f] << " stuck at " << Num(d.plan.stuck->value);
}

void DrawConcept(const ZooTask& t, Rng& rng, Draw& d) {
  const size_t f = PickFeatures(t, rng, 1)[0];
  d.plan.concept = DriftPlan::Concept{f, Uniform(rng, 0.0, 1.0), Uniform(rng, 0.5, 0.9)};
  d.params["concept_threshold_z"] = d.plan.concept->threshold;
  d.params["flip_probability"] = d.plan.concept->flip_probability;
  d.drift << "labels flip with p " << Num(d.plan.concept->flip_probability) << " where z(" << t.feature_names[f]
          << ") > " << Num(d.plan.concept->threshold);
}

void DrawNone(const ZooTask&, Rng&, Draw& d) {
  d.schedule = Schedule::kNone;
  d.drift << "no drift";
}

struct Entry {
  ZooFamily family;
  DrawFn draw;
};

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries{
      {{"offset", "covariate"}, DrawOffset},          {{"gain_offset", "covariate"}, DrawGainOffset},
      {{"unit_change", "covariate"}, DrawUnitChange}, {{"ramp", "covariate"}, DrawRamp},
      {{"recurring", "covariate"}, DrawRecurring},    {{"label_up", "label"}, DrawLabelUp},
      {{"label_down", "label"}, DrawLabelDown},       {{"label_majority", "label"}, DrawLabelMajority},
      {{"covariate_label", "mixed"}, DrawCovariateLabel}, {{"rotation", "covariate"}, DrawRotation},
      {{"noise", "covariate"}, DrawNoise},            {{"stuck", "covariate"}, DrawStuck},
      {{"concept", "concept"}, DrawConcept},          {{"none", "none"}, DrawNone}};
  return entries;
}

// Intensity per batch; records the drawn timing in `d.params`.
std::vector<double> Intensities(Draw& d, const ZooShape& shape, Rng& rng) {
  const size_t n = shape.stream_batches, onset = shape.clean_batches;
  std::vector<double> w(n, 0.0);
  if (d.schedule == Schedule::kNone) return w;
  d.params["onset_batch"] = static_cast<double>(onset);
  if (d.schedule == Schedule::kStep) {
    std::fill(w.begin() + onset, w.end(), 1.0);
  } else if (d.schedule == Schedule::kRamp) {
    const size_t len = std::max<size_t>(2, static_cast<size_t>(std::lround(Uniform(rng, 0.25, 0.6) * n)));
    for (size_t b = onset; b < n; ++b) w[b] = std::min(1.0, static_cast<double>(b - onset + 1) / len);
    d.params["ramp_batches"] = static_cast<double>(len);
    d.drift << ", ramping in over " << len << " batches";
  } else {
    const size_t end = n - (n + 2) / 3;  // the final third (rounded up) stays clean
    size_t b = onset, segments = 0;
    while (b < end) {
      const size_t on = std::min(end, b + static_cast<size_t>(UniformInt(rng, 3, 6)));
      std::fill(w.begin() + b, w.begin() + on, 1.0);
      ++segments;
      b = on + static_cast<size_t>(UniformInt(rng, 2, 5));
    }
    d.params["drift_segments"] = static_cast<double>(segments);
    d.drift << ", on and off (" << segments << " drifted stretches), clean from batch " << end;
  }
  return w;
}

}  // namespace

ZooShape QuickZooShape() { return ZooShape{2000, 2000, 16, 4, 100}; }

const std::vector<ZooFamily>& ZooFamilies() {
  static const std::vector<ZooFamily> families = [] {
    std::vector<ZooFamily> out;
    for (const Entry& e : Entries()) out.push_back(e.family);
    return out;
  }();
  return families;
}

Result<ZooScenario> MakeZooScenario(const std::string& family, uint64_t seed, const ZooShape& shape) {
  const auto& entries = Entries();
  auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.family.name == family; });
  if (it == entries.end()) {
    std::string list;
    for (const Entry& e : entries) list += (list.empty() ? "" : ", ") + e.family.name;
    return Status::InvalidArgument("unknown zoo family '" + family + "' (known: " + list + ")");
  }
  if (shape.batch_size == 0 || shape.clean_batches >= shape.stream_batches || shape.train_rows == 0 || shape.oracle_rows == 0) {
    return Status::InvalidArgument("zoo shape: needs rows, a batch size and drifted batches after the clean prefix");
  }
  ZooScenario s;
  s.family = family;
  s.category = it->family.category;
  s.seed = seed;
  Rng task_rng = MakeRng(seed, "task", 1);
  s.task = DrawZooTask(task_rng);
  Draw d;
  d.plan = IdentityPlan(s.task);
  Rng drift_rng = MakeRng(seed, family, 2);
  it->draw(s.task, drift_rng, d);
  s.intensity = Intensities(d, shape, drift_rng);
  s.plan = d.plan;
  s.params = d.params;
  s.drift = d.drift.str();
  s.note = d.note;

  ScenarioData& data = s.data;
  data.name = "zoo/" + family;
  data.batch_size = shape.batch_size;
  Rng train_rng = MakeRng(seed, "train", 3), stream_rng = MakeRng(seed, family, 4), oracle_rng = MakeRng(seed, family, 5);
  AppendRows(s.task, IdentityPlan(s.task), 0.0, shape.train_rows, train_rng, data.train);
  for (double w : s.intensity) AppendRows(s.task, s.plan, w, shape.batch_size, stream_rng, data.stream);
  // A concept drift leaves P(x) alone but its intensity still says where labels flip.
  for (double w : s.intensity) data.batch_is_clean.push_back(w == 0.0 ? 1 : 0);
  LabeledData oracle;
  AppendRows(s.task, s.plan, 1.0, shape.oracle_rows, oracle_rng, oracle);
  data.oracle_train = std::move(oracle);
  return s;
}

}  // namespace reflex::sim
