#include "zoo.h"

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "experiment.h"
#include "model/compute_threads.h"
#include "zoo_workers.h"

namespace reflex::sim {

namespace {

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// A whole string as a finite double.
bool ParseNumber(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*out);
}

Result<LabelBudget> ParseBudget(const std::string& item) {
  const Status bad = Status::InvalidArgument("--budgets: '" + item + "' is not a label budget like 10%/5 (fraction/delay)");
  const size_t slash = item.find('/');
  std::string fraction = item.substr(0, slash);
  const bool percent = !fraction.empty() && fraction.back() == '%';
  if (percent) fraction.pop_back();
  LabelBudget b;
  double delay = 0;
  if (!ParseNumber(fraction, &b.fraction)) return bad;
  if (slash != std::string::npos && !ParseNumber(item.substr(slash + 1), &delay)) return bad;
  if (percent) b.fraction /= 100;
  if (b.fraction < 0 || b.fraction > 1 || delay < 0 || delay > 1000 || delay != std::floor(delay)) return bad;
  b.delay = static_cast<int>(delay);
  return b;
}

ZooArmFigures Figures(const SimResult& r, const std::string& arm) {
  const ArmSummary& a = r.arms.at(arm);
  return {a.confusion.f1(), a.confusion.accuracy(), a.heal_events, a.rollbacks};
}

ZooRow MakeRow(const ZooScenario& s, const LabelBudget& budget, const SimResult& r) {
  ZooRow row;
  row.family = s.family;
  row.category = s.category;
  row.drift = s.drift;
  row.note = s.note;
  row.seed = s.seed;
  row.budget = budget;
  row.has_labels = budget.fraction > 0;
  row.frozen = Figures(r, "frozen");
  row.label_free = Figures(r, "healed_label_free");
  row.labels = Figures(r, "healed_labels");
  row.oracle = Figures(r, "oracle");
  row.gap_label_free = GapClosed(row.label_free.f1, row.frozen.f1, row.oracle.f1);
  if (row.has_labels) row.gap_labels = GapClosed(row.labels.f1, row.frozen.f1, row.oracle.f1);
  return row;
}

Result<ZooRow> RunOne(const ZooScenario& s, const LabelBudget& budget, const HealPolicy& policy) {
  ExperimentOptions opt;
  opt.policy = policy;
  opt.seed = s.seed;
  opt.label_fraction = budget.fraction;
  opt.label_delay = budget.delay;
  auto result = RunExperiment(s.data, opt);
  if (!result.ok()) {
    return result.status().WithContext("zoo " + s.family + " seed " + std::to_string(s.seed) + " " + budget.Label());
  }
  return MakeRow(s, budget, *result);
}

}  // namespace

std::string LabelBudget::Label() const {
  if (fraction <= 0) return "0";
  std::ostringstream out;
  out << std::round(fraction * 1000) / 10 << "%/" << delay;
  return out.str();
}

std::vector<LabelBudget> DefaultZooBudgets() { return {{0.10, 5}, {1.0, 0}}; }

std::vector<LabelBudget> AllZooBudgets() {
  std::vector<LabelBudget> out;
  for (double f : {0.01, 0.10, 1.0}) {
    for (int d : {0, 5, 20}) out.push_back({f, d});
  }
  return out;
}

Result<std::vector<LabelBudget>> ParseBudgets(const std::string& text) {
  if (text == "default") return DefaultZooBudgets();
  if (text == "all") return AllZooBudgets();
  std::vector<LabelBudget> out;
  for (const std::string& item : Split(text, ',')) {
    auto b = ParseBudget(item);
    if (!b.ok()) return b.status();
    out.push_back(*b);
  }
  if (out.empty()) return Status::InvalidArgument("--budgets: no budget given");
  return out;
}

std::string ZooRow::Key() const { return family + " seed " + std::to_string(seed) + " " + budget.Label(); }

std::optional<double> GapClosed(double arm_f1, double frozen_f1, double oracle_f1) {
  if (oracle_f1 - frozen_f1 < kMinOracleGain) return std::nullopt;
  return (arm_f1 - frozen_f1) / (oracle_f1 - frozen_f1);
}

ZooOptions QuickZooOptions() {
  ZooOptions o;
  o.families = {"offset", "label_up"};
  o.seeds = 1;
  o.budgets = {{0.10, 5}};
  o.shape = QuickZooShape();
  return o;
}

Result<std::vector<ZooUnit>> ZooUnits(const ZooOptions& options) {
  std::vector<std::string> families = options.families;
  if (families.empty()) {
    for (const ZooFamily& f : ZooFamilies()) families.push_back(f.name);
  }
  for (const std::string& family : families) {
    auto known = MakeZooScenario(family, 1, ZooShape{10, 10, 2, 1, 1});  // cheap: checks the name only
    if (!known.ok()) return known.status();
  }
  if (options.seeds < 1) return Status::InvalidArgument("--seeds must be at least 1");
  if (options.budgets.empty()) return Status::InvalidArgument("--budgets: no budget given");
  std::vector<ZooUnit> units;
  for (const std::string& family : families) {
    for (int seed = 1; seed <= options.seeds; ++seed) {
      for (const LabelBudget& budget : options.budgets) units.push_back({family, static_cast<uint64_t>(seed), budget});
    }
  }
  return units;
}

Result<ZooRow> RunZooUnit(const ZooUnit& unit, const ZooOptions& options, size_t index, size_t total) {
  std::ostream* log = options.log;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  auto scenario = MakeZooScenario(unit.family, unit.seed, options.shape);
  if (!scenario.ok()) return scenario.status();
  auto row = RunOne(*scenario, unit.budget, options.policy);
  if (!row.ok() || !log) return row;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::ostringstream line;  // one write, so that lines of parallel workers do not interleave
  line.precision(3);
  line << "zoo [" << index + 1 << "/" << total << "] " << row->Key() << ": F1 frozen " << row->frozen.f1 << ", label-free "
       << row->label_free.f1 << ", labels " << row->labels.f1 << ", oracle " << row->oracle.f1 << " (" << std::lround(seconds)
       << " s, " << std::lround(cpu) << " s CPU)\n";
  *log << line.str() << std::flush;
  return row;
}

Result<std::vector<ZooRow>> RunZoo(const ZooOptions& options) {
  auto units = ZooUnits(options);
  if (!units.ok()) return units.status();
  if (options.jobs > 1 && units->size() > 1) return RunZooInWorkers(*units, options);
  SetComputeThreads(options.threads);
  std::vector<ZooRow> rows;
  for (size_t i = 0; i < units->size(); ++i) {
    auto row = RunZooUnit((*units)[i], options, i, units->size());
    if (!row.ok()) return row.status();
    rows.push_back(*row);
  }
  return rows;
}

}  // namespace reflex::sim
