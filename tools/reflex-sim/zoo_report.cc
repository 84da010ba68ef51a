#include "zoo_report.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/atomic_file.h"

namespace reflex::sim {

namespace {

const char* const kDash = "\u2013";  // printed where a figure is undefined

std::string Fixed(double v, int digits) {
  std::ostringstream out;
  out.precision(digits);
  out << std::fixed << v;
  return out.str();
}

std::string Percent(double v) { return Fixed(v * 100, 1) + "%"; }
std::string Gap(const std::optional<double>& g) { return g ? Fixed(*g, 2) : kDash; }

// Display width of UTF-8 text (code points).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Pad(const std::string& s, size_t width, bool right) {
  const std::string fill(width > Width(s) ? width - Width(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

// Writes `line` without its trailing spaces, then a newline.
void Emit(std::ostream& out, std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out << line << "\n";
}

ZooGapStats Stats(std::vector<double> gaps) {
  ZooGapStats s;
  s.n = gaps.size();
  if (gaps.empty()) return s;
  for (double g : gaps) s.mean += g;
  s.mean /= gaps.size();
  std::sort(gaps.begin(), gaps.end());
  const size_t mid = gaps.size() / 2;
  s.median = gaps.size() % 2 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
  return s;
}

// The larger shortfall of `arm` below `reference` in accuracy and F1.
ZooHarm Shortfall(const std::string& key, const ZooArmFigures& arm, const ZooArmFigures& reference) {
  ZooHarm h{key, std::max(reference.accuracy - arm.accuracy, reference.f1 - arm.f1), ""};
  h.detail = "F1 " + Fixed(arm.f1, 3) + " vs " + Fixed(reference.f1, 3) + ", accuracy " + Percent(arm.accuracy) + " vs " +
             Percent(reference.accuracy);
  return h;
}

void Count(ZooHarmCheck& check, const ZooHarm& h, double margin) {
  ++check.of;
  if (h.deficit <= margin) return;
  ++check.count;
  check.worst.push_back(h);
  std::stable_sort(check.worst.begin(), check.worst.end(), [](const ZooHarm& a, const ZooHarm& b) { return a.deficit > b.deficit; });
  if (check.worst.size() > kZooWorstShown) check.worst.pop_back();
}

// Gap lists of one category (or all): label-free per (family, seed), labels per budget.
struct GapLists {
  std::set<std::string> scenarios;
  std::vector<double> label_free;
  std::map<std::string, std::vector<double>> labels;
  void Add(const ZooRow& r) {
    const std::string scenario = r.family + " seed " + std::to_string(r.seed);
    if (scenarios.insert(scenario).second && r.gap_label_free) label_free.push_back(*r.gap_label_free);
    if (r.gap_labels) labels[r.budget.Label()].push_back(*r.gap_labels);
  }
  ZooCategorySummary Summary() const {
    ZooCategorySummary s;
    s.scenarios = scenarios.size();
    s.label_free = Stats(label_free);
    for (const auto& [budget, gaps] : labels) s.labels[budget] = Stats(gaps);
    return s;
  }
};

}  // namespace

ZooSummary SummariseZoo(const std::vector<ZooRow>& rows) {
  ZooSummary s;
  s.label_free_below_frozen.name = "label-free < frozen - 0.01";
  s.labels_below_frozen.name = "labels < frozen - 0.01";
  s.labels_below_label_free.name = "labels < label-free - 0.02";
  std::map<std::string, GapLists> by_category;
  GapLists all;
  std::set<std::string> seen;
  for (const ZooRow& r : rows) {
    by_category[r.category].Add(r);
    all.Add(r);
    const std::string scenario = r.family + " seed " + std::to_string(r.seed);
    if (seen.insert(scenario).second) Count(s.label_free_below_frozen, Shortfall(scenario, r.label_free, r.frozen), 0.01);
    if (!r.has_labels) continue;
    if (std::find(s.budgets.begin(), s.budgets.end(), r.budget.Label()) == s.budgets.end()) s.budgets.push_back(r.budget.Label());
    Count(s.labels_below_frozen, Shortfall(r.Key(), r.labels, r.frozen), 0.01);
    Count(s.labels_below_label_free, Shortfall(r.Key(), r.labels, r.label_free), 0.02);
  }
  for (const auto& [category, lists] : by_category) s.categories[category] = lists.Summary();
  s.overall = all.Summary();
  return s;
}

namespace {

const std::vector<std::pair<std::string, size_t>>& Columns() {
  static const std::vector<std::pair<std::string, size_t>> columns{
      {"family", 15}, {"category", 9}, {"seed", 4},   {"budget", 7},     {"frozen", 12},        {"label-free", 12},
      {"labels", 12}, {"oracle", 12},  {"gap LF", 6}, {"gap lab", 7}, {"heals LF/lab", 12}, {"rollbacks LF/lab", 16}};
  return columns;
}

void PrintLine(std::ostream& out, const std::vector<std::string>& cells) {
  const auto& cols = Columns();
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? " " : "") + Pad(cells[i], cols[i].second, i >= 2);
  Emit(out, line);
}

std::string Cell(const ZooArmFigures& a) { return Fixed(a.f1, 3) + " " + Pad(Percent(a.accuracy), 6, true); }

void PrintRows(std::ostream& out, const std::vector<ZooRow>& rows) {
  std::vector<std::string> header, rule;
  for (const auto& [name, width] : Columns()) {
    header.push_back(name);
    rule.push_back(std::string(width, '-'));
  }
  PrintLine(out, header);
  PrintLine(out, rule);
  for (const ZooRow& r : rows) {
    const bool l = r.has_labels;
    PrintLine(out, {r.family, r.category, std::to_string(r.seed), r.budget.Label(), Cell(r.frozen), Cell(r.label_free),
                    l ? Cell(r.labels) : kDash, Cell(r.oracle), Gap(r.gap_label_free), Gap(r.gap_labels),
                    std::to_string(r.label_free.heals) + "/" + (l ? std::to_string(r.labels.heals) : kDash),
                    std::to_string(r.label_free.rollbacks) + "/" + (l ? std::to_string(r.labels.rollbacks) : kDash)});
  }
}

std::string StatsCell(const ZooGapStats& s) {
  return s.n ? Fixed(s.mean, 2) + " (" + Fixed(s.median, 2) + "; n=" + std::to_string(s.n) + ")" : kDash;
}

void PrintSummary(std::ostream& out, const ZooSummary& s) {
  out << "\nsummary: F1 gap closed, mean (median; n = rows with a defined gap)\n";
  std::string header = Pad("category", 10, false) + Pad("scenarios", 10, true) + "  " + Pad("label-free", 22, false);
  for (const std::string& b : s.budgets) header += Pad("labels " + b, 22, false);
  Emit(out, header);
  auto line = [&](const std::string& name, const ZooCategorySummary& c) {
    std::string text = Pad(name, 10, false) + Pad(std::to_string(c.scenarios), 10, true) + "  " + Pad(StatsCell(c.label_free), 22, false);
    for (const std::string& b : s.budgets) text += Pad(c.labels.count(b) ? StatsCell(c.labels.at(b)) : kDash, 22, false);
    Emit(out, text);
  };
  for (const char* category : {"covariate", "label", "mixed", "concept", "none"}) {
    if (s.categories.count(category)) line(category, s.categories.at(category));
  }
  line("overall", s.overall);
  out << "\ndo no harm (accuracy or F1):\n";
  for (const ZooHarmCheck* c : {&s.label_free_below_frozen, &s.labels_below_frozen, &s.labels_below_label_free}) {
    out << "  " << c->name << ": " << c->count << " of " << c->of
        << (c == &s.label_free_below_frozen ? " scenarios (family x seed)" : " runs") << "\n";
    for (const ZooHarm& h : c->worst) out << "      " << h.key << ": " << h.detail << "\n";
  }
}

}  // namespace

void PrintZoo(std::ostream& out, const ZooOptions& options, const std::vector<ZooRow>& rows, const ZooSummary& summary) {
  const ZooShape& sh = options.shape;
  out << "reflex-sim --zoo  runs=" << rows.size() << "  seeds=1.." << options.seeds << "  stream=" << sh.stream_batches
      << " x " << sh.batch_size << " rows (" << sh.clean_batches << " clean)  train=" << sh.train_rows << "  oracle=" << sh.oracle_rows
      << "\n\n";
  PrintRows(out, rows);
  out << "\nfrozen .. oracle: F1 and accuracy over the whole stream (prequential). LF = healed_label_free, lab = healed_labels.\n"
      << "oracle: the deployed model on clean batches, a model trained on drifted rows on drifted ones.\n"
      << "gap = (arm F1 - frozen F1) / (oracle F1 - frozen F1); " << kDash << " where oracle - frozen < " << kMinOracleGain << ".\n";
  std::set<std::string> noted;
  for (const ZooRow& r : rows) {
    if (!r.note.empty() && noted.insert(r.family).second) out << r.family << ": " << r.note << "\n";
  }
  PrintSummary(out, summary);
}

namespace {

nlohmann::json ArmJson(const ZooArmFigures& a) {
  return {{"f1", a.f1}, {"accuracy", a.accuracy}, {"heals", a.heals}, {"rollbacks", a.rollbacks}};
}

nlohmann::json GapJson(const std::optional<double>& g) { return g ? nlohmann::json(*g) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json ZooRowToJson(const ZooRow& r) {
  return {{"family", r.family}, {"category", r.category}, {"seed", r.seed}, {"budget", r.budget.Label()},
          {"label_fraction", r.budget.fraction}, {"label_delay", r.budget.delay}, {"drift", r.drift}, {"note", r.note},
          {"frozen", ArmJson(r.frozen)}, {"label_free", ArmJson(r.label_free)},
          {"labels", r.has_labels ? ArmJson(r.labels) : nlohmann::json(nullptr)}, {"oracle", ArmJson(r.oracle)},
          {"gap_closed_label_free", GapJson(r.gap_label_free)}, {"gap_closed_labels", GapJson(r.gap_labels)}};
}

namespace {

ZooArmFigures ArmFromJson(const nlohmann::json& j) {
  return {j.at("f1").get<double>(), j.at("accuracy").get<double>(), j.at("heals").get<int>(), j.at("rollbacks").get<int>()};
}

std::optional<double> GapFromJson(const nlohmann::json& j) {
  return j.is_null() ? std::nullopt : std::optional<double>(j.get<double>());
}

}  // namespace

Result<ZooRow> ZooRowFromJson(const nlohmann::json& j) {
  try {
    ZooRow r;
    r.family = j.at("family").get<std::string>();
    r.category = j.at("category").get<std::string>();
    r.seed = j.at("seed").get<uint64_t>();
    r.budget = {j.at("label_fraction").get<double>(), j.at("label_delay").get<int>()};
    r.drift = j.at("drift").get<std::string>();
    r.note = j.at("note").get<std::string>();
    r.frozen = ArmFromJson(j.at("frozen"));
    r.label_free = ArmFromJson(j.at("label_free"));
    r.has_labels = !j.at("labels").is_null();
    if (r.has_labels) r.labels = ArmFromJson(j.at("labels"));
    r.oracle = ArmFromJson(j.at("oracle"));
    r.gap_label_free = GapFromJson(j.at("gap_closed_label_free"));
    r.gap_labels = GapFromJson(j.at("gap_closed_labels"));
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("zoo row: ") + e.what());
  }
}

namespace {

nlohmann::json StatsJson(const ZooGapStats& s) {
  return {{"n", s.n}, {"mean_gap_closed", s.n ? nlohmann::json(s.mean) : nlohmann::json(nullptr)},
          {"median_gap_closed", s.n ? nlohmann::json(s.median) : nlohmann::json(nullptr)}};
}

nlohmann::json CategoryJson(const ZooCategorySummary& c) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [budget, stats] : c.labels) labels[budget] = StatsJson(stats);
  return {{"scenarios", c.scenarios}, {"label_free", StatsJson(c.label_free)}, {"labels", labels}};
}

nlohmann::json HarmJson(const ZooHarmCheck& c) {
  nlohmann::json worst = nlohmann::json::array();
  for (const ZooHarm& h : c.worst) worst.push_back({{"scenario", h.key}, {"deficit", h.deficit}, {"detail", h.detail}});
  return {{"check", c.name}, {"count", c.count}, {"of", c.of}, {"worst", worst}};
}

nlohmann::json SummaryJson(const ZooSummary& s) {
  nlohmann::json categories = nlohmann::json::object();
  for (const auto& [name, c] : s.categories) categories[name] = CategoryJson(c);
  return {{"categories", categories}, {"overall", CategoryJson(s.overall)},
          {"do_no_harm", {{"label_free_below_frozen", HarmJson(s.label_free_below_frozen)},
                          {"labels_below_frozen", HarmJson(s.labels_below_frozen)},
                          {"labels_below_label_free", HarmJson(s.labels_below_label_free)}}}};
}

}  // namespace

std::string ZooJson(const ZooOptions& options, const std::vector<ZooRow>& rows, const ZooSummary& summary) {
  nlohmann::json root;
  nlohmann::json budgets = nlohmann::json::array(), families = nlohmann::json::array(), list = nlohmann::json::array();
  for (const LabelBudget& b : options.budgets) budgets.push_back(b.Label());
  for (const ZooRow& r : rows) {
    if (families.empty() || families.back() != r.family) families.push_back(r.family);
    list.push_back(ZooRowToJson(r));
  }
  const ZooShape& sh = options.shape;
  root["budgets"] = budgets;
  root["families"] = families;
  root["seeds"] = options.seeds;
  root["shape"] = {{"train_rows", sh.train_rows}, {"oracle_rows", sh.oracle_rows}, {"stream_batches", sh.stream_batches},
                   {"clean_batches", sh.clean_batches}, {"batch_size", sh.batch_size}};
  root["min_oracle_gain"] = kMinOracleGain;
  nlohmann::json overrides = nlohmann::json::object();  // the policy keys this run changed from the defaults
  const auto defaults = HealPolicy{}.ToMap();
  for (const auto& [key, value] : options.policy.ToMap()) {
    if (defaults.at(key) != value) overrides[key] = value;
  }
  root["policy_overrides"] = overrides;
  root["rows"] = list;
  root["summary"] = SummaryJson(summary);
  return root.dump(2) + "\n";
}

Status WriteZooJson(const std::string& dir, const ZooOptions& options, const std::vector<ZooRow>& rows,
                    const ZooSummary& summary) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::IoError(dir + ": cannot create the folder: " + error.message());
  return WriteFileAtomically((std::filesystem::path(dir) / "zoo.json").string(), ZooJson(options, rows, summary));
}

}  // namespace reflex::sim
