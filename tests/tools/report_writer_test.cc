#define BOOST_TEST_MODULE tools_report_writer
#include "reflex-sim/report_writer.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using reflex::sim::SimResult;

namespace {

const char kTrickyReason[] = "positive rate 0.41 < 0.5, \"gate\" refused";

// 3 arms, 4 batches, 2 events (one with a reason holding <, " and ,).
SimResult SmallResult() {
  SimResult r;
  r.scenario = "seed";
  r.seed = 7;
  r.batch_size = 100;
  r.fidi_threshold = 3.0;
  r.arm_order = {"frozen", "healed_labels", "oracle"};
  const std::vector<double> accuracy[3] = {
      {0.93, 0.45, 0.44, 0.46}, {0.93, 0.45, 0.70, 0.72}, {0.90, 0.80, 0.81, 0.82}};
  const char* labels[3] = {"none", "100% of rows, 0 batches late", "trained on drifted data"};
  for (size_t a = 0; a < 3; ++a) {
    reflex::sim::ArmSummary s;
    s.name = r.arm_order[a];
    s.labels_used = labels[a];
    s.confusion.tp = 30 + 10 * a;
    s.confusion.fp = 10;
    s.confusion.tn = 300;
    s.confusion.fn = 60 - 10 * a;
    s.final_version = a == 1 ? 2 : 1;
    s.heal_events = a == 1 ? 1 : 0;
    s.rejections = a == 1 ? 1 : 0;
    s.bayes_frontier_f1 = 0.5 + 0.1 * a;
    r.arms[s.name] = s;
  }
  for (size_t b = 0; b < 4; ++b) {
    reflex::sim::BatchRecord record;
    record.batch = b;
    record.fidi_z = 1.0 + 2.0 * b;
    record.drift = b >= 1;
    record.conflicts = b;
    for (size_t a = 0; a < 3; ++a) {
      reflex::sim::ArmBatch arm;
      arm.accuracy = accuracy[a][b];
      arm.f1 = accuracy[a][b] - 0.1;
      arm.served_version = 1;
      record.arms[r.arm_order[a]] = arm;
    }
    r.batches.push_back(record);
  }
  r.batches[1].arms["healed_labels"].action = "reject, \"gate\"";
  r.batches[2].arms["healed_labels"].action = "heal v2";
  r.batches[3].arms["healed_labels"].served_version = 2;

  reflex::sim::SimEvent rejection;
  rejection.batch = 1;
  rejection.arm = "healed_labels";
  rejection.kind = "rejection";
  rejection.version = 2;
  rejection.from_version = 1;
  rejection.reason = kTrickyReason;
  rejection.details = {{"positive_rate", 0.41}};
  reflex::sim::SimEvent heal;
  heal.batch = 2;
  heal.arm = "healed_labels";
  heal.kind = "heal";
  heal.version = 2;
  heal.from_version = 1;
  heal.reason = "drift on amount";
  heal.details = {{"loss_before", 0.9}, {"loss_after", 0.4}};
  r.events = {rejection, heal};
  r.published = reflex::sim::PublishedFigures{};
  r.cost_fp = 1.0;
  r.cost_fn = 5.0;
  r.notes = {"note <one> & two"};
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

BOOST_AUTO_TEST_CASE(SummaryJsonParsesBackWithEveryArmsTotals) {
  SimResult r = SmallResult();
  nlohmann::json j = nlohmann::json::parse(reflex::sim::SummaryJson(r));
  BOOST_TEST(j["scenario"] == "seed");
  BOOST_TEST(j["seed"] == 7);
  BOOST_TEST(j["cost_fp"] == 1.0);
  BOOST_TEST(j["cost_fn"] == 5.0);
  BOOST_TEST(j["published"]["clean_accuracy"] == 0.929);
  BOOST_TEST(j["published"]["bayes_ceiling_accuracy"] == 0.85);
  BOOST_TEST(j["arms"].size() == 3u);
  for (const char* key :
       {"accuracy", "precision", "recall", "f1", "tp", "fp", "tn", "fn", "heal_events",
        "rejections", "rollbacks", "final_version", "labels_used", "bayes_frontier_f1"}) {
    BOOST_TEST_CONTEXT("key " << key) { BOOST_TEST(j["arms"]["healed_labels"].contains(key)); }
  }
  const nlohmann::json& healed = j["arms"]["healed_labels"];
  BOOST_TEST(healed["tp"] == 40);
  BOOST_TEST(healed["fn"] == 50);
  BOOST_TEST(healed["heal_events"] == 1);
  BOOST_TEST(healed["final_version"] == 2);
  BOOST_TEST(healed["labels_used"] == "100% of rows, 0 batches late");
  BOOST_TEST(healed["accuracy"].get<double>() == r.arms["healed_labels"].confusion.accuracy());
  BOOST_TEST(!healed.contains("cost_per_1000"));
}

BOOST_AUTO_TEST_CASE(SummaryJsonLeavesOutUnsetOptionalFields) {
  SimResult r = SmallResult();
  r.published.reset();
  r.cost_fp.reset();
  r.cost_fn.reset();
  r.arms["frozen"].bayes_frontier_f1.reset();
  r.arms["frozen"].cost_per_1000 = 12.5;
  nlohmann::json j = nlohmann::json::parse(reflex::sim::SummaryJson(r));
  BOOST_TEST(!j.contains("published"));
  BOOST_TEST(!j.contains("cost_fp"));
  BOOST_TEST(!j.contains("cost_fn"));
  BOOST_TEST(!j["arms"]["frozen"].contains("bayes_frontier_f1"));
  BOOST_TEST(j["arms"]["frozen"]["cost_per_1000"] == 12.5);
}

BOOST_AUTO_TEST_CASE(MetricsCsvHasOneRowPerBatchAndQuotesActions) {
  std::vector<std::string> lines = Lines(reflex::sim::MetricsCsv(SmallResult()));
  BOOST_REQUIRE(lines.size() == 5u);
  BOOST_TEST(lines[0] ==
             "batch,fidi_z,drift,conflicts,frozen_accuracy,frozen_f1,frozen_version,frozen_action,"
             "healed_labels_accuracy,healed_labels_f1,healed_labels_version,healed_labels_action,"
             "oracle_accuracy,oracle_f1,oracle_version,oracle_action");
  BOOST_TEST(lines[1].rfind("0,", 0) == 0u);
  BOOST_TEST(lines[4].rfind("3,", 0) == 0u);
  BOOST_TEST(lines[2].find(",\"reject, \"\"gate\"\"\",") != std::string::npos);
  BOOST_TEST(lines[3].find(",heal v2,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(EventsJsonListsEveryEventInOrder) {
  nlohmann::json j = nlohmann::json::parse(reflex::sim::EventsJson(SmallResult()));
  BOOST_REQUIRE(j["events"].size() == 2u);
  const nlohmann::json& first = j["events"][0];
  BOOST_TEST(first["batch"] == 1);
  BOOST_TEST(first["arm"] == "healed_labels");
  BOOST_TEST(first["kind"] == "rejection");
  BOOST_TEST(first["version"] == 2);
  BOOST_TEST(first["from_version"] == 1);
  BOOST_TEST(first["reason"] == kTrickyReason);
  BOOST_TEST(first["details"]["positive_rate"] == 0.41);
  BOOST_TEST(j["events"][1]["kind"] == "heal");
  BOOST_TEST(j["events"][1]["details"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(ReportHtmlIsSelfContainedWithThreeChartsAndEscapedText) {
  std::string html = reflex::sim::ReportHtml(SmallResult());
  BOOST_TEST(html.rfind("<!DOCTYPE html>", 0) == 0u);
  BOOST_TEST(Count(html, "<svg") == 3u);
  BOOST_TEST(html.find("http") == std::string::npos);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find(kTrickyReason) == std::string::npos);
  BOOST_TEST(html.find("positive rate 0.41 &lt; 0.5, &quot;gate&quot; refused") !=
             std::string::npos);
  BOOST_TEST(html.find("note &lt;one&gt; &amp; two") != std::string::npos);
  BOOST_TEST(html.find("<polyline") != std::string::npos);
  BOOST_TEST(html.find("Bayes F1@acc") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ReportHtmlMarksEachEventOnTheAccuracyChart) {
  std::string html = reflex::sim::ReportHtml(SmallResult());
  // One tooltip per marker: the rejection (hollow circle) and the heal (triangle).
  BOOST_TEST(Count(html, "<title>batch ") == 2u);
  BOOST_TEST(html.find("r=\"5.5\" fill=\"#fff\"") != std::string::npos);
  BOOST_TEST(html.find("stroke-dasharray=\"6 4\"") != std::string::npos);  // FIDI threshold
}

BOOST_AUTO_TEST_CASE(TableListsEachArmUnderTheHeaderWithinOneHundredTwentyColumns) {
  SimResult r = SmallResult();
  r.arms["oracle"].cost_per_1000 = 123.45;
  std::ostringstream out;
  reflex::sim::PrintTable(out, r);
  std::string text = out.str();
  std::vector<std::string> lines = Lines(text);
  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines[0] == "reflex-sim  scenario=seed  seed=7  batches=4 x 100 rows");
  for (const std::string& line : lines) BOOST_TEST(line.size() <= 120u, line);
  for (const char* arm : {"frozen", "healed_labels", "oracle"})
    BOOST_TEST(text.find(arm) != std::string::npos);
  BOOST_TEST(text.find("Bayes F1@acc") != std::string::npos);
  BOOST_TEST(text.find("cost/1000") != std::string::npos);
  BOOST_TEST(text.find("123.45") != std::string::npos);
  BOOST_TEST(text.find("92.9%") != std::string::npos);
  BOOST_TEST(text.find("85.0%") != std::string::npos);
  BOOST_TEST(text.find("note <one> & two") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(IdenticalInputsGiveIdenticalBytes) {
  SimResult a = SmallResult(), b = SmallResult();
  BOOST_TEST(reflex::sim::SummaryJson(a) == reflex::sim::SummaryJson(b));
  BOOST_TEST(reflex::sim::MetricsCsv(a) == reflex::sim::MetricsCsv(b));
  BOOST_TEST(reflex::sim::EventsJson(a) == reflex::sim::EventsJson(b));
  BOOST_TEST(reflex::sim::ReportHtml(a) == reflex::sim::ReportHtml(b));
  std::ostringstream ta, tb;
  reflex::sim::PrintTable(ta, a);
  reflex::sim::PrintTable(tb, b);
  BOOST_TEST(ta.str() == tb.str());
}

BOOST_AUTO_TEST_CASE(WriteOutputsCreatesTheFolderAndFourFiles) {
  fs::path dir =
      fs::temp_directory_path() / ("reflex_report_test_" + std::to_string(::getpid())) / "out";
  fs::remove_all(dir.parent_path());
  SimResult r = SmallResult();
  reflex::Status status = reflex::sim::WriteOutputs(dir.string(), r);
  BOOST_TEST(status.ok(), status.ToString());
  for (const char* name : {"summary.json", "metrics.csv", "events.json", "report.html"}) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(fs::is_regular_file(dir / name)); }
  }
  std::ifstream in(dir / "report.html", std::ios::binary);
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(html == reflex::sim::ReportHtml(r));
  fs::remove_all(dir.parent_path());
}

BOOST_AUTO_TEST_CASE(WriteOutputsNamesThePathWhenTheFolderCannotBeCreated) {
  fs::path base =
      fs::temp_directory_path() / ("reflex_report_test_file_" + std::to_string(::getpid()));
  { std::ofstream(base) << "not a folder"; }
  std::string dir = (base / "out").string();
  reflex::Status status = reflex::sim::WriteOutputs(dir, SmallResult());
  BOOST_TEST(!status.ok());
  BOOST_TEST((status.code() == reflex::StatusCode::kIoError));
  BOOST_TEST(status.message().find(dir) != std::string::npos, status.message());
  fs::remove(base);
}
