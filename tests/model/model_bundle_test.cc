#define BOOST_TEST_MODULE model_model_bundle
#include <boost/test/unit_test.hpp>

// model/model_bundle.h for a user's TorchScript export: WriteTorchScriptBundle and
// LoadModelBundle honour the manifest's label column, classes and optional rules, and refuse
// pieces that do not fit each other. The exports come from tests/model/make_torchscript_fixture.py
// (Debian's /usr/bin/python3 with python3-torch).

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/class_csv.h"
#include "model/model_bundle.h"

using namespace reflex;
namespace fs = std::filesystem;

namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// The exported fixture models in a temporary folder, made once and removed at exit.
class Exports {
 public:
  static const Exports& Get() {
    static Exports e;
    BOOST_REQUIRE_MESSAGE(e.error_.empty(), e.error_);
    return e;
  }
  const fs::path& dir() const { return dir_; }
  fs::path Fresh(const std::string& name) const {
    fs::path p = dir_ / ("bundle_" + name);
    fs::remove_all(p);
    return p;
  }
  ~Exports() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

 private:
  Exports() {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() / ("reflex_model_bundle_test_" + std::to_string(::getpid()) + "_" + std::to_string(stamp));
    fs::create_directories(dir_);
    const std::string script = std::string(REFLEX_SOURCE_DIR) + "/tests/model/make_torchscript_fixture.py";
    const std::string command = "/usr/bin/python3 -B '" + script + "' '" + dir_.string() + "' >'" +
                                (dir_ / "python.log").string() + "' 2>&1";
    const int rc = std::system(command.c_str());
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
      error_ = script + " failed (needs /usr/bin/python3 with python3-torch):\n" + ReadText(dir_ / "python.log");
    }
  }
  fs::path dir_;
  std::string error_;
};

// `rows` clean rows of the fixture's six features, labelled by the model itself (class k when
// its probability of k is highest), so every class the model predicts appears.
LabeledData CleanRows(const HealableModel& model, size_t rows, uint64_t seed) {
  LabeledData d;
  d.feature_names = model.spec().feature_names;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (size_t i = 0; i < rows * d.dims(); ++i) d.features.push_back(normal(rng));
  auto probs = model.Score(model.initial_adapter(), BatchView{d.features.data(), rows, d.dims()});
  BOOST_REQUIRE(probs.ok());
  const size_t per_row = model.outputs_per_row();
  for (size_t r = 0; r < rows; ++r) {
    if (per_row == 1) {
      d.labels.push_back((*probs)[r] > 0.5f ? 1 : 0);
    } else {
      const float* p = probs->data() + r * per_row;
      d.labels.push_back(static_cast<uint8_t>(std::max_element(p, p + per_row) - p));
    }
  }
  return d;
}

TorchScriptBundleInput Input(const std::string& variant, const std::vector<std::string>& classes, const std::string& label) {
  const Exports& e = Exports::Get();
  TorchScriptBundleInput in;
  in.export_dir = (variant.empty() ? e.dir() : e.dir() / variant).string();
  auto model = HealableModel::LoadTorchScript(in.export_dir + "/manifest.json");
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  in.clean = CleanRows(**model, 400, 3);
  in.label_column = label;
  in.classes = classes;
  return in;
}

nlohmann::json Manifest(const fs::path& dir) { return nlohmann::json::parse(ReadText(dir / "manifest.json")); }

}  // namespace

BOOST_AUTO_TEST_CASE(ABinaryExportBundlesWithItsLabelColumnAndNoRules) {
  const fs::path dir = Exports::Get().Fresh("binary");
  TorchScriptBundleInput in = Input("logit_head", {"0", "1"}, "failed");
  auto summary = WriteTorchScriptBundle(dir.string(), in);
  BOOST_REQUIRE_MESSAGE(summary.ok(), summary.status().ToString());
  BOOST_TEST(summary->rows == 400u);
  BOOST_TEST(summary->accuracy == 1.0);  // the labels are the model's own predictions
  BOOST_TEST(summary->score_quantiles.size() == 5u);
  BOOST_TEST(!fs::exists(dir / "rules.txt"));
  BOOST_TEST(fs::exists(dir / "ts" / "backbone.pt"));
  const nlohmann::json m = Manifest(dir);
  BOOST_TEST(m["label_column"].get<std::string>() == "failed");
  BOOST_TEST(m["rules"].is_null());
  BOOST_TEST(m["clean_summary"]["rows"].get<size_t>() == 400u);
  BOOST_TEST(Contains(ReadText(dir / "clean.csv"), ",failed\n"));

  auto bundle = LoadModelBundle(dir.string());
  BOOST_REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
  BOOST_TEST(bundle->label_column == "failed");
  BOOST_TEST(bundle->classes == (std::vector<std::string>{"0", "1"}));
  BOOST_TEST(bundle->rules->empty());
  BOOST_TEST(bundle->clean->rows() == 400u);
  BOOST_TEST(bundle->clean->labels == in.clean.labels);
  BOOST_TEST(bundle->clean->features == in.clean.features);
  BOOST_TEST(bundle->model->num_classes() == 1u);
  const double prior = static_cast<double>(summary->class_rows[1]) / summary->rows;
  BOOST_TEST(std::abs(bundle->calibration->clean.train_prior - prior) < 1e-12);
}

BOOST_AUTO_TEST_CASE(RulesWhenGivenAreWrittenAndLoaded) {
  const fs::path dir = Exports::Get().Fresh("rules");
  TorchScriptBundleInput in = Input("", {"0", "1"}, "label");
  in.rules_text = "rule f0_high: f0 > 3 => positive\n";
  BOOST_REQUIRE(WriteTorchScriptBundle(dir.string(), in).ok());
  auto bundle = LoadModelBundle(dir.string());
  BOOST_REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
  BOOST_TEST(bundle->rules->size() == 1u);

  // A manifest that names a rules file that is gone is refused naming it.
  fs::remove(dir / "rules.txt");
  auto gone = LoadModelBundle(dir.string());
  BOOST_REQUIRE(!gone.ok());
  BOOST_TEST(Contains(gone.status().message(), "rules.txt"), gone.status().ToString());
  // A bundle from before the field existed: rules.txt is optional.
  nlohmann::json m = Manifest(dir);
  m.erase("rules");
  WriteText(dir / "manifest.json", m.dump());
  auto old = LoadModelBundle(dir.string());
  BOOST_REQUIRE_MESSAGE(old.ok(), old.status().ToString());
  BOOST_TEST(old->rules->empty());
}

BOOST_AUTO_TEST_CASE(TheManifestsLabelColumnIsTheOneRead) {
  const fs::path dir = Exports::Get().Fresh("label_column");
  BOOST_REQUIRE(WriteTorchScriptBundle(dir.string(), Input("", {"0", "1"}, "outcome")).ok());
  BOOST_REQUIRE(LoadModelBundle(dir.string()).ok());
  nlohmann::json m = Manifest(dir);
  m["label_column"] = "label";  // clean.csv's label column is 'outcome'
  WriteText(dir / "manifest.json", m.dump());
  auto wrong = LoadModelBundle(dir.string());
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(Contains(wrong.status().message(), "label column 'label' not found"), wrong.status().ToString());
  BOOST_TEST(Contains(wrong.status().message(), "clean.csv:1"), wrong.status().ToString());
}

BOOST_AUTO_TEST_CASE(AReplacedCleanFileOrWrongClassesAreRefused) {
  const fs::path dir = Exports::Get().Fresh("checks");
  BOOST_REQUIRE(WriteTorchScriptBundle(dir.string(), Input("", {"0", "1"}, "label")).ok());
  nlohmann::json m = Manifest(dir);
  m["clean_summary"]["rows"] = 401;
  WriteText(dir / "manifest.json", m.dump());
  auto replaced = LoadModelBundle(dir.string());
  BOOST_REQUIRE(!replaced.ok());
  BOOST_TEST(static_cast<int>(replaced.status().code()) == static_cast<int>(StatusCode::kCorruption));
  BOOST_TEST(Contains(replaced.status().message(), "400 rows"), replaced.status().ToString());

  m = Manifest(dir);
  m["clean_summary"]["rows"] = 400;
  m["classes"] = {"0", "1", "2"};
  WriteText(dir / "manifest.json", m.dump());
  auto classes = LoadModelBundle(dir.string());
  BOOST_REQUIRE(!classes.ok());
  BOOST_TEST(Contains(classes.status().message(), "3 classes listed"), classes.status().ToString());

  // Writing: class names that do not fit the head, and a binary clean set with one class only.
  TorchScriptBundleInput three = Input("", {"a", "b", "c"}, "label");
  auto bad = WriteTorchScriptBundle(Exports::Get().Fresh("bad_classes").string(), three);
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(Contains(bad.status().message(), "3 class names for a head of 2 classes"), bad.status().ToString());
  TorchScriptBundleInput one = Input("", {"0", "1"}, "label");
  for (auto& l : one.clean.labels) l = 0;
  const fs::path one_dir = Exports::Get().Fresh("one_class");
  auto single = WriteTorchScriptBundle(one_dir.string(), one);
  BOOST_REQUIRE(!single.ok());
  BOOST_TEST(Contains(single.status().message(), "no row of class '1'"), single.status().ToString());
  BOOST_TEST(!fs::exists(one_dir), "nothing is written when a check fails");
}

BOOST_AUTO_TEST_CASE(AThreeClassExportBundlesWithNamedClasses) {
  const fs::path dir = Exports::Get().Fresh("three");
  TorchScriptBundleInput in = Input("softmax3", {"ok", "bearing", "seal"}, "kind");
  auto summary = WriteTorchScriptBundle(dir.string(), in);
  BOOST_REQUIRE_MESSAGE(summary.ok(), summary.status().ToString());
  BOOST_TEST(summary->class_rows.size() == 3u);
  BOOST_TEST(summary->score_quantiles.empty());
  const std::string csv = ReadText(dir / "clean.csv");
  BOOST_TEST(Contains(csv, ",kind\n"));
  auto bundle = LoadModelBundle(dir.string());
  BOOST_REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString());
  BOOST_TEST(bundle->model->num_classes() == 3u);
  BOOST_TEST(bundle->classes == (std::vector<std::string>{"ok", "bearing", "seal"}));
  BOOST_TEST(bundle->clean->labels == in.clean.labels);
  BOOST_TEST(bundle->calibration->class_rate.size() == 3u);
  // Class rules name the bundle's classes.
  in.rules_text = "rule r: f0 > 3 => class seal\n";
  const fs::path with_rules = Exports::Get().Fresh("three_rules");
  BOOST_REQUIRE(WriteTorchScriptBundle(with_rules.string(), in).ok());
  auto ruled = LoadModelBundle(with_rules.string());
  BOOST_REQUIRE_MESSAGE(ruled.ok(), ruled.status().ToString());
  BOOST_TEST(ruled->rules->multiclass());
}
