#define BOOST_TEST_MODULE tools_zoo
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reflex-sim/zoo.h"
#include "reflex-sim/zoo_report.h"

// The zoo's bookkeeping on hand-made rows: budgets, gap closed, the summary and its
// do-no-harm counts, the table and zoo.json. No experiment runs here.
using namespace reflex::sim;

namespace {

ZooRow Row(const std::string& family, const std::string& category, uint64_t seed, LabelBudget budget, double frozen,
           double label_free, double labels, double oracle) {
  ZooRow r;
  r.family = family;
  r.category = category;
  r.seed = seed;
  r.budget = budget;
  r.has_labels = budget.fraction > 0;
  r.frozen = {frozen, 0.9, 0, 0};
  r.label_free = {label_free, 0.9, 2, 0};
  r.labels = {labels, 0.9, 3, 1};
  r.oracle = {oracle, 0.95, 0, 0};
  r.gap_label_free = GapClosed(label_free, frozen, oracle);
  if (r.has_labels) r.gap_labels = GapClosed(labels, frozen, oracle);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(BudgetsParseAndPrintAsFractionSlashDelay) {
  auto parsed = ParseBudgets("10%/5,100%/0,1%/20,0.5/3,0");
  BOOST_REQUIRE(parsed.ok());
  std::vector<std::string> labels;
  for (const LabelBudget& b : *parsed) labels.push_back(b.Label());
  BOOST_TEST((labels == std::vector<std::string>{"10%/5", "100%/0", "1%/20", "50%/3", "0"}));
  BOOST_TEST((*parsed)[0].fraction == 0.10);
  BOOST_TEST((*parsed)[0].delay == 5);
  BOOST_TEST(ParseBudgets("all")->size() == 9u);
  BOOST_TEST(ParseBudgets("default")->size() == 2u);
  for (const std::string bad : {"abc", "10%/x", "150%/0", "10%/-1", "10%/2.5", ""}) {
    BOOST_TEST(!ParseBudgets(bad).ok(), bad);
  }
}

BOOST_AUTO_TEST_CASE(GapClosedIsUndefinedWhenTheOracleGainsTooLittle) {
  BOOST_TEST(*GapClosed(0.7, 0.5, 0.9) == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(*GapClosed(0.4, 0.5, 0.9) == -0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(!GapClosed(0.7, 0.5, 0.515).has_value());
  BOOST_TEST(!GapClosed(0.7, 0.5, 0.4).has_value());
}

BOOST_AUTO_TEST_CASE(TheSummaryAveragesGapsPerCategoryAndCountsHarm) {
  const LabelBudget b10{0.1, 5}, b100{1.0, 0};
  std::vector<ZooRow> rows{Row("offset", "covariate", 1, b10, 0.5, 0.7, 0.6, 0.9),
                           Row("offset", "covariate", 1, b100, 0.5, 0.7, 0.9, 0.9),
                           Row("label_up", "label", 1, b10, 0.6, 0.55, 0.5, 0.8),
                           Row("none", "none", 1, b10, 0.7, 0.7, 0.7, 0.7)};
  const ZooSummary s = SummariseZoo(rows);
  BOOST_TEST((s.budgets == std::vector<std::string>{"10%/5", "100%/0"}));
  BOOST_TEST(s.categories.at("covariate").scenarios == 1u);
  BOOST_TEST(s.categories.at("covariate").label_free.n == 1u);  // once per (family, seed)
  BOOST_TEST(s.categories.at("covariate").label_free.mean == 0.5, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(s.categories.at("covariate").labels.at("100%/0").mean == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(s.categories.at("none").label_free.n == 0u);  // the oracle gains nothing: no gap
  BOOST_TEST(s.overall.scenarios == 3u);
  BOOST_TEST(s.label_free_below_frozen.of == 3u);
  BOOST_TEST(s.label_free_below_frozen.count == 1u);
  BOOST_TEST(s.label_free_below_frozen.worst.at(0).key == "label_up seed 1");
  BOOST_TEST(s.labels_below_frozen.count == 1u);
  BOOST_TEST(s.labels_below_label_free.of == 4u);
  BOOST_TEST(s.labels_below_label_free.count == 2u);  // offset 10%/5 (0.6 < 0.7) and label_up
  BOOST_TEST(s.labels_below_label_free.worst.at(0).key == "offset seed 1 10%/5");
}

BOOST_AUTO_TEST_CASE(TheTableAndJsonShowEveryRowAndTheSummary) {
  ZooOptions options;
  options.seeds = 1;
  std::vector<ZooRow> rows{Row("offset", "covariate", 1, {0.1, 5}, 0.5, 0.7, 0.6, 0.9),
                           Row("none", "none", 1, {0.0, 0}, 0.7, 0.7, 0.7, 0.7)};
  const ZooSummary s = SummariseZoo(rows);
  std::ostringstream table;
  PrintZoo(table, options, rows, s);
  BOOST_TEST(table.str().find("offset          covariate") != std::string::npos, table.str());
  BOOST_TEST(table.str().find("do no harm") != std::string::npos);
  BOOST_TEST(table.str().find("\u2013") != std::string::npos);  // the none row's undefined gap
  const nlohmann::json j = nlohmann::json::parse(ZooJson(options, rows, s));
  BOOST_TEST(j.at("rows").size() == 2u);
  BOOST_TEST(j.at("rows")[0].at("gap_closed_label_free").get<double>() == 0.5, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(j.at("rows")[1].at("labels").is_null());
  BOOST_TEST(j.at("rows")[1].at("gap_closed_labels").is_null());
  BOOST_TEST(j.at("summary").at("do_no_harm").contains("labels_below_label_free"));
  BOOST_TEST(j.at("summary").at("categories").contains("covariate"));
}

BOOST_AUTO_TEST_CASE(ARowSurvivesItsJsonRoundTrip) {
  for (const ZooRow& row : {Row("offset", "covariate", 2, {0.1, 5}, 0.5, 0.7, 0.6, 0.9), Row("none", "none", 1, {0.0, 0}, 0.7, 0.7, 0.7, 0.7)}) {
    auto back = ZooRowFromJson(nlohmann::json::parse(ZooRowToJson(row).dump()));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(ZooRowToJson(*back) == ZooRowToJson(row));
    BOOST_TEST(back->has_labels == row.has_labels);
    BOOST_TEST(back->Key() == row.Key());
  }
  BOOST_TEST(!ZooRowFromJson(nlohmann::json{{"family", "offset"}}).ok());
}
