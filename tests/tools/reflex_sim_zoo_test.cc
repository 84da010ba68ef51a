#define BOOST_TEST_MODULE tools_reflex_sim_zoo
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tool_run.h"

// Runs the built reflex-sim's small drift zoo (path given by CMake): it exits 0 and writes a
// zoo.json with every row and the summary. Quality figures are not asserted here.
namespace fs = std::filesystem;

namespace {

reflex::testing::ToolRun Sim(const std::string& args) {
  return reflex::testing::RunTool(REFLEX_SIM_BINARY, args, "reflex_sim_zoo_test");
}

}  // namespace

BOOST_AUTO_TEST_CASE(ZooQuickExitsZeroAndWritesZooJsonWithEveryRowAndTheSummary) {
  const fs::path dir = fs::temp_directory_path() / ("reflex_sim_zoo_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const reflex::testing::ToolRun r = Sim("--zoo-quick --out " + dir.string());
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.out);
  BOOST_TEST(r.out.find("do no harm") != std::string::npos, r.out);
  std::ifstream in(dir / "zoo.json");
  BOOST_REQUIRE(in.good());
  const nlohmann::json j = nlohmann::json::parse(in);
  for (const char* key : {"budgets", "families", "seeds", "shape", "rows", "summary"}) BOOST_TEST(j.contains(key), key);
  BOOST_REQUIRE(j.at("rows").size() == 2u);
  for (const auto& row : j.at("rows")) {
    for (const char* key : {"family", "category", "seed", "budget", "drift", "frozen", "label_free", "labels", "oracle",
                            "gap_closed_label_free", "gap_closed_labels"}) {
      BOOST_TEST(row.contains(key), key);
    }
    BOOST_TEST(row.at("frozen").contains("f1"));
    BOOST_TEST(row.at("frozen").contains("accuracy"));
  }
  const auto& summary = j.at("summary");
  BOOST_TEST(summary.contains("categories"));
  BOOST_TEST(summary.contains("overall"));
  for (const char* check : {"label_free_below_frozen", "labels_below_frozen", "labels_below_label_free"}) {
    BOOST_TEST(summary.at("do_no_harm").contains(check), check);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(WorkerProcessesWriteTheSameZooJsonAsOneProcess) {
  const fs::path dir = fs::temp_directory_path() / ("reflex_sim_zoo_test_jobs_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const reflex::testing::ToolRun one = Sim("--zoo-quick --jobs 1 --out " + (dir / "one").string());
  const reflex::testing::ToolRun two = Sim("--zoo-quick --jobs 2 --out " + (dir / "two").string());
  BOOST_REQUIRE_MESSAGE(one.code == 0, one.out);
  BOOST_REQUIRE_MESSAGE(two.code == 0, two.out);
  auto read = [](const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string a = read(dir / "one" / "zoo.json"), b = read(dir / "two" / "zoo.json");
  BOOST_TEST(!a.empty());
  BOOST_TEST(a == b);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(AnUnknownFamilyOrBudgetExitsTwo) {
  const reflex::testing::ToolRun family = Sim("--zoo --families tsunami");
  BOOST_TEST(family.code == 2, family.out);
  BOOST_TEST(family.out.find("tsunami") != std::string::npos, family.out);
  const reflex::testing::ToolRun budget = Sim("--zoo --budgets 10%/x");
  BOOST_TEST(budget.code == 2, budget.out);
  BOOST_TEST(budget.out.find("10%/x") != std::string::npos, budget.out);
}
