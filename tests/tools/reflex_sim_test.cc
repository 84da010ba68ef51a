#define BOOST_TEST_MODULE tools_reflex_sim
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tool_run.h"

// Runs the built reflex-sim (path given by CMake) and checks what a user relies on:
// bad input exits 2 with file:line:column, the same seed gives the same output, outputs exist.
namespace fs = std::filesystem;

namespace {

using Run = reflex::testing::ToolRun;

Run Sim(const std::string& args) { return reflex::testing::RunTool(REFLEX_SIM_BINARY, args, "reflex_sim_test"); }

fs::path TempDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("reflex_sim_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string GoodCsv(int rows, int offset) {
  std::string s = "a,b,label\n";
  for (int i = 0; i < rows; ++i) {
    double a = ((i * 37 + offset) % 100) / 50.0 - 1.0;
    s += std::to_string(a + offset) + "," + std::to_string((i % 7) / 3.0) + "," + (a > 0.3 ? "1" : "0") + "\n";
  }
  return s;
}

// Fashion-MNIST runs need the Debian package dataset-fashion-mnist; without it they are skipped.
bool HaveFashionMnist() {
  if (fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) return true;
  BOOST_TEST_MESSAGE("skipped: dataset-fashion-mnist is not installed");
  return false;
}

// Networks the image tests train, cached under the build folder and shared between runs.
fs::path TestCache() { return fs::path(REFLEX_BINARY_DIR) / "cache" / "tests"; }

}  // namespace

BOOST_AUTO_TEST_CASE(MalformedCsvExitsTwoNamingFileLineAndColumn) {
  fs::path dir = TempDir("bad");
  Write(dir / "train.csv", GoodCsv(300, 0));
  Write(dir / "stream.csv", "a,b,label\n0.1,0.2,0\n0.3,abc,1\n");
  Run r = Sim("--train " + (dir / "train.csv").string() + " --stream " + (dir / "stream.csv").string() + " --label label");
  BOOST_TEST(r.code == 2);
  BOOST_TEST(r.out.find("stream.csv:3:2") != std::string::npos, r.out);

  Run missing = Sim("--train " + (dir / "train.csv").string() + " --stream " + (dir / "stream.csv").string() + " --label Class");
  BOOST_TEST(missing.code == 2);
  BOOST_TEST(missing.out.find("'Class'") != std::string::npos, missing.out);

  Write(dir / "empty.csv", "");
  Run empty = Sim("--train " + (dir / "empty.csv").string() + " --stream " + (dir / "stream.csv").string() + " --label label");
  BOOST_TEST(empty.code == 2);
  BOOST_TEST(empty.out.find("empty") != std::string::npos, empty.out);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(UnknownPolicyKeyOrScenarioExitsTwo) {
  BOOST_TEST(Sim("--scenario seed --policy nonsense=1").code == 2);
  BOOST_TEST(Sim("--scenario nowhere").code == 2);
}

BOOST_AUTO_TEST_CASE(UserCsvRunsAndWritesEveryOutput) {
  fs::path dir = TempDir("csv");
  Write(dir / "train.csv", GoodCsv(1000, 0));
  Write(dir / "stream.csv", GoodCsv(600, 1));
  Write(dir / "rules.txt", "rule high_a: a > 1.5 => positive\n");
  Run r = Sim("--train " + (dir / "train.csv").string() + " --stream " + (dir / "stream.csv").string() +
              " --label label --rules " + (dir / "rules.txt").string() + " --label-delay 1 --label-fraction 0.5 --out " +
              (dir / "out").string());
  BOOST_TEST(r.code == 0, r.out);
  for (const char* f : {"summary.json", "metrics.csv", "events.json", "report.html"}) {
    BOOST_TEST(fs::exists(dir / "out" / f), f);
  }
  nlohmann::json summary = nlohmann::json::parse(Read(dir / "out" / "summary.json"));
  for (const char* arm : {"frozen", "healed_labels", "healed_label_free"}) {
    BOOST_TEST(summary["arms"].contains(arm), arm);
    BOOST_TEST(summary["arms"][arm]["tp"].get<int>() + summary["arms"][arm]["fp"].get<int>() +
                   summary["arms"][arm]["tn"].get<int>() + summary["arms"][arm]["fn"].get<int>() == 600);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(SameSeedGivesSameOutputAndLabelFreeNeverEndsBelowFrozen) {
  fs::path a = TempDir("seed_a"), b = TempDir("seed_b");
  Run ra = Sim("--scenario seed --seed 4 --out " + a.string());
  Run rb = Sim("--scenario seed --seed 4 --out " + b.string());
  BOOST_TEST(ra.code == 0, ra.out);
  BOOST_TEST(Read(a / "summary.json") == Read(b / "summary.json"));
  BOOST_TEST(Read(a / "metrics.csv") == Read(b / "metrics.csv"));
  BOOST_TEST(Read(a / "events.json") == Read(b / "events.json"));
  BOOST_TEST(Read(a / "report.html") == Read(b / "report.html"));
  nlohmann::json s = nlohmann::json::parse(Read(a / "summary.json"));
  BOOST_TEST(s["arms"].contains("oracle"));
  BOOST_TEST(s["arms"]["healed_label_free"]["accuracy"].get<double>() >= s["arms"]["frozen"]["accuracy"].get<double>());
  fs::remove_all(a);
  fs::remove_all(b);
}

BOOST_AUTO_TEST_CASE(LabelsThatArriveAfterTheirRowsLeftTheWindowStillReachTheLabelledArm) {
  // The window holds 3 batches and labels come 6 batches late: the labelled arm must learn from
  // the remembered labelled rows (before the fix it never saw a label).
  fs::path dir = TempDir("late");
  Write(dir / "train.csv", GoodCsv(1000, 0));
  Write(dir / "stream.csv", GoodCsv(1400, 1));
  Run r = Sim("--train " + (dir / "train.csv").string() + " --stream " + (dir / "stream.csv").string() +
              " --label label --label-delay 6 --policy window_rows=300 --policy min_rows=100 --out " + (dir / "out").string());
  BOOST_TEST(r.code == 0, r.out);
  nlohmann::json events = nlohmann::json::parse(Read(dir / "out" / "events.json"))["events"];
  double most_labelled = 0;
  for (const auto& e : events) {
    if (e["arm"] == "healed_labels" && e.contains("details") && e["details"].contains("labelled_rows")) {
      most_labelled = std::max(most_labelled, e["details"]["labelled_rows"].get<double>());
    }
  }
  BOOST_TEST(most_labelled >= 100.0, r.out);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(FashionMnistRunWritesItsFilesWithEveryArm) {
  if (!HaveFashionMnist()) return;
  fs::path out = TempDir("fashion");
  const fs::path cache = TestCache();
  const std::string args = "--dataset fashion-mnist --corruption brightness --severity 5 --train-limit 2000 "
                           "--stream-limit 1000 --epochs 1 --cache-dir " + cache.string() + " --out " + out.string();
  Run first = Sim(args);
  BOOST_TEST_INFO(first.out);
  BOOST_REQUIRE(first.code == 0);
  for (const char* f : {"summary.json", "metrics.csv", "events.json", "report.html"}) BOOST_TEST(fs::exists(out / f));
  auto summary = nlohmann::json::parse(Read(out / "summary.json"));
  BOOST_TEST(summary["num_classes"].get<int>() == 10);
  for (const char* arm : {"frozen", "healed_labels", "healed_label_free", "entropy_only", "oracle"}) {
    BOOST_TEST_INFO(arm);
    BOOST_TEST(summary["arms"].contains(arm));
    BOOST_TEST(summary["arms"][arm]["rows"].get<int>() == 1000);
  }
  // The second run reuses both cached networks and gives the same files.
  const std::string first_summary = Read(out / "summary.json");
  Run second = Sim(args);
  BOOST_REQUIRE(second.code == 0);
  BOOST_TEST(second.out.find("[cache] backbone: loaded") != std::string::npos);
  BOOST_TEST(second.out.find("[train]") == std::string::npos);
  BOOST_TEST(Read(out / "summary.json") == first_summary);
  fs::remove_all(out);
}

// A translation leaves the backbone's output moments nearly where they were; the images'
// scattered centroids still count as drift, so the label-free arm tries a heal.
BOOST_AUTO_TEST_CASE(ShiftedImagesCountAsDriftAndTheLabelFreeArmTriesAHeal) {
  if (!HaveFashionMnist()) return;
  fs::path out = TempDir("fashion-shift");
  const fs::path cache = TestCache();
  Run run = Sim("--dataset fashion-mnist --corruption shift --severity 5 --train-limit 2000 --stream-limit 1000 "
                "--epochs 1 --cache-dir " + cache.string() + " --out " + out.string());
  BOOST_TEST_INFO(run.out);
  BOOST_REQUIRE(run.code == 0);
  // (This small backbone is too weak for the gate to accept a heal; the attempt is what counts.)
  auto summary = nlohmann::json::parse(Read(out / "summary.json"));
  const auto& free = summary["arms"]["healed_label_free"];
  BOOST_TEST(free["heal_events"].get<int>() + free["rejections"].get<int>() >= 1);
  std::istringstream csv(Read(out / "metrics.csv"));
  std::string line;
  std::getline(csv, line);  // header: batch,fidi_z,drift,...
  int batches = 0, drift = 0;
  while (std::getline(csv, line)) {
    ++batches;
    const size_t a = line.find(','), b = line.find(',', a + 1);
    drift += line.substr(b + 1, 1) == "1";
  }
  BOOST_TEST(batches == 10);
  BOOST_TEST(drift == batches);
  fs::remove_all(out);
}

BOOST_AUTO_TEST_CASE(BadClassRulesOrClassNamesExitTwoSayingWhere) {
  if (!HaveFashionMnist()) return;
  fs::path dir = TempDir("class_rules");
  Write(dir / "fashion.rules", "# trousers have a gap between the legs\nrule gap: px406 < 0.1 => class Trousers\n");
  const std::string args = "--dataset fashion-mnist --corruption none --train-limit 200 --stream-limit 200 --epochs 1 "
                           "--no-oracle --cache-dir " + (dir / "cache").string();
  Run typo = Sim(args + " --rules " + (dir / "fashion.rules").string());
  BOOST_TEST_INFO(typo.out);
  BOOST_TEST(typo.code == 2);
  BOOST_TEST(typo.out.find("fashion.rules:2:32: unknown class 'Trousers' (known: T-shirt/top, Trouser,") != std::string::npos);
  Write(dir / "binary.rules", "rule gap: px406 < 0.1 => positive\n");
  Run binary = Sim(args + " --rules " + (dir / "binary.rules").string());
  BOOST_TEST(binary.code == 2);
  BOOST_TEST(binary.out.find("binary.rules:1:26: expected 'class NAME', found 'positive'") != std::string::npos);
  Run names = Sim(args + " --class-names a,b,c");
  BOOST_TEST(names.code == 2);
  BOOST_TEST(names.out.find("--class-names: 3 names for 10 classes") != std::string::npos);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(MissingOrBadIdxFileExitsTwoNamingTheFile) {
  fs::path dir = TempDir("idx");
  Write(dir / "bad.idx", "not an idx file");
  Run missing = Sim("--train-images " + (dir / "none.gz").string() + " --train-labels " + (dir / "bad.idx").string() +
                    " --stream-images " + (dir / "bad.idx").string() + " --stream-labels " + (dir / "bad.idx").string());
  BOOST_TEST(missing.code == 2);
  BOOST_TEST(missing.out.find("none.gz: cannot open the file") != std::string::npos);
  Run bad = Sim("--train-images " + (dir / "bad.idx").string() + " --train-labels " + (dir / "bad.idx").string() +
                " --stream-images " + (dir / "bad.idx").string() + " --stream-labels " + (dir / "bad.idx").string());
  BOOST_TEST(bad.code == 2);
  BOOST_TEST(bad.out.find("bad.idx: not an IDX file") != std::string::npos);
  fs::remove_all(dir);
}
