#define BOOST_TEST_MODULE model_torchscript
#include <boost/test/unit_test.hpp>

// TorchScript models exported by tools/export_model.py: C++ scores must equal PyTorch's.
// The fixture (tests/model/make_torchscript_fixture.py) is written once per run by Debian's
// /usr/bin/python3, which must be able to import torch (package python3-torch).

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/healable_model.h"

using namespace reflex;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";
constexpr size_t kFeatures = 6;
constexpr size_t kRows = 50;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

std::vector<float> ReadF32(const fs::path& path, size_t count) {
  std::vector<float> v(count);
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(sizeof(float) * count));
  BOOST_REQUIRE_MESSAGE(in.gcount() == static_cast<std::streamsize>(sizeof(float) * count),
                        path << ": expected " << count << " float32 values");
  return v;
}

// Runs `command` with stdout and stderr sent to `log`; returns the exit status.
int RunLogged(const std::string& command, const fs::path& log) {
  const std::string full = command + " >'" + log.string() + "' 2>&1";
  const int rc = std::system(full.c_str());
  return (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
}

// A temporary folder holding the exported fixture, made on first use and removed at exit.
class Fixture {
 public:
  static const Fixture& Get() {
    static Fixture fixture;
    BOOST_REQUIRE_MESSAGE(fixture.error_.empty(), fixture.error_);
    return fixture;
  }
  const fs::path& dir() const { return dir_; }
  fs::path manifest() const { return dir_ / "manifest.json"; }

  // A scratch folder for a test's own manifests, next to the exported files.
  fs::path Scratch(const std::string& name) const {
    fs::path p = dir_ / ("scratch_" + name);
    fs::create_directories(p);
    return p;
  }

  ~Fixture() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

 private:
  Fixture() {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() /
           ("reflex_torchscript_test_" + std::to_string(::getpid()) + "_" + std::to_string(stamp));
    fs::create_directories(dir_);
    const fs::path log = dir_ / "python.log";
    if (RunLogged(std::string(kPython) + " -c 'import torch'", log) != 0) {
      error_ = std::string(kPython) + " cannot import torch, so the TorchScript fixture cannot be made "
               "(install Debian's python3-torch): " + ReadText(log);
      return;
    }
    const std::string script = std::string(REFLEX_SOURCE_DIR) + "/tests/model/make_torchscript_fixture.py";
    const int rc = RunLogged(std::string(kPython) + " -B '" + script + "' '" + dir_.string() + "'", log);
    if (rc != 0) {
      error_ = script + " failed with exit status " + std::to_string(rc) + ":\n" + ReadText(log);
    }
  }

  fs::path dir_;
  std::string error_;
};

// Scores the fixture rows with the model's initial (identity) adapter.
std::vector<float> ScoreRows(const HealableModel& model, const std::vector<float>& rows) {
  BatchView view{rows.data(), kRows, kFeatures};
  Result<std::vector<float>> probs = model.Score(model.initial_adapter(), view);
  BOOST_REQUIRE_MESSAGE(probs.ok(), probs.status().ToString());
  BOOST_REQUIRE_EQUAL(probs->size(), kRows);
  return *probs;
}

void CheckScoresEqualPyTorch(const fs::path& manifest) {
  const Fixture& f = Fixture::Get();
  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript(manifest.string());
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  BOOST_TEST((*model)->input_dims() == kFeatures);
  BOOST_TEST((*model)->spec().width == 16u);
  BOOST_TEST((*model)->spec().feature_names.front() == "f0");

  const std::vector<float> rows = ReadF32(f.dir() / "rows.f32", kRows * kFeatures);
  const std::vector<float> expected = ReadF32(f.dir() / "expected.f32", kRows);
  const std::vector<float> got = ScoreRows(**model, rows);
  double worst = 0;
  for (size_t i = 0; i < kRows; ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - expected[i]);
    worst = std::max(worst, diff);
    BOOST_TEST(diff <= 1e-5, "row " << i << ": C++ " << got[i] << " vs PyTorch " << expected[i]);
  }
  BOOST_TEST_MESSAGE(manifest.string() << ": worst |C++ - PyTorch| over " << kRows << " rows = " << worst);
}

nlohmann::json FixtureManifest() {
  return nlohmann::json::parse(ReadText(Fixture::Get().manifest()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ScoresEqualPyTorchForASigmoidHead) {
  const Fixture& f = Fixture::Get();
  BOOST_TEST(FixtureManifest().at("head_output").get<std::string>() == "probability");
  CheckScoresEqualPyTorch(f.manifest());
}

BOOST_AUTO_TEST_CASE(ScoresEqualPyTorchForALogitHead) {
  const Fixture& f = Fixture::Get();
  const nlohmann::json m = nlohmann::json::parse(ReadText(f.dir() / "logit_head" / "manifest.json"));
  BOOST_TEST(m.at("head_output").get<std::string>() == "logit");
  CheckScoresEqualPyTorch(f.dir() / "logit_head" / "manifest.json");
}

// A K-class export: K probabilities per row that sum to 1 and equal PyTorch's, whether the head
// ends in a softmax or returns logits.
BOOST_AUTO_TEST_CASE(ScoresEqualPyTorchForAThreeClassSoftmaxHead) {
  const Fixture& f = Fixture::Get();
  const std::vector<float> rows = ReadF32(f.dir() / "rows.f32", kRows * kFeatures);
  const std::vector<float> expected = ReadF32(f.dir() / "softmax3_expected.f32", kRows * 3);
  for (const char* variant : {"softmax3", "logits3"}) {
    Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((f.dir() / variant / "manifest.json").string());
    BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    BOOST_TEST((*model)->num_classes() == 3u);
    BOOST_TEST((*model)->outputs_per_row() == 3u);
    Result<std::vector<float>> probs = (*model)->Score((*model)->initial_adapter(), BatchView{rows.data(), kRows, kFeatures});
    BOOST_REQUIRE_MESSAGE(probs.ok(), probs.status().ToString());
    BOOST_REQUIRE_EQUAL(probs->size(), kRows * 3);
    double worst = 0, worst_sum = 0;
    for (size_t i = 0; i < kRows; ++i) {
      double sum = 0;
      for (size_t k = 0; k < 3; ++k) {
        const size_t j = i * 3 + k;
        worst = std::max(worst, std::fabs(static_cast<double>((*probs)[j]) - expected[j]));
        sum += (*probs)[j];
      }
      worst_sum = std::max(worst_sum, std::fabs(sum - 1.0));
    }
    BOOST_TEST(worst <= 1e-5, variant << ": worst |C++ - PyTorch| = " << worst);
    BOOST_TEST(worst_sum <= 1e-6, variant << ": worst |sum - 1| = " << worst_sum);
  }
}

// A 2-class softmax head is served as a binary model: p(positive) is PyTorch's probability of
// class 1.
BOOST_AUTO_TEST_CASE(ATwoClassSoftmaxHeadIsServedAsBinary) {
  const Fixture& f = Fixture::Get();
  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((f.dir() / "two_class" / "manifest.json").string());
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  BOOST_TEST((*model)->num_classes() == 1u);
  BOOST_TEST((*model)->outputs_per_row() == 1u);
  const std::vector<float> rows = ReadF32(f.dir() / "rows.f32", kRows * kFeatures);
  const std::vector<float> expected = ReadF32(f.dir() / "two_class_expected.f32", kRows);
  const std::vector<float> got = ScoreRows(**model, rows);
  for (size_t i = 0; i < kRows; ++i) {
    BOOST_TEST(std::fabs(static_cast<double>(got[i]) - expected[i]) <= 1e-5, "row " << i << ": C++ " << got[i] << " vs PyTorch " << expected[i]);
  }
}

BOOST_AUTO_TEST_CASE(AHeadOfAnotherWidthThanTheManifestSaysIsRefused) {
  const Fixture& f = Fixture::Get();
  const fs::path dir = f.Scratch("classes");
  nlohmann::json m = nlohmann::json::parse(ReadText(f.dir() / "softmax3" / "manifest.json"));
  m["num_classes"] = 4;
  m["backbone"] = (f.dir() / "softmax3" / "backbone.pt").string();
  m["head"] = (f.dir() / "softmax3" / "head.pt").string();
  WriteText(dir / "manifest.json", m.dump());
  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_TEST(Contains(model.status().message(), "4 outputs per row"), model.status().ToString());
  BOOST_TEST(Contains(model.status().message(), "gave 6 for 2 rows"), model.status().ToString());
  m["head_kind"] = "multilabel";
  WriteText(dir / "manifest.json", m.dump());
  model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_TEST(Contains(model.status().message(), "multilabel"), model.status().ToString());
}

BOOST_AUTO_TEST_CASE(ExportIsFrozenAndReloadsIdentically) {
  const Fixture& f = Fixture::Get();
  Result<std::shared_ptr<HealableModel>> a = HealableModel::LoadTorchScript(f.manifest().string());
  Result<std::shared_ptr<HealableModel>> b = HealableModel::LoadTorchScript(f.manifest().string());
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST((*a)->FrozenFingerprint() == (*b)->FrozenFingerprint());
  BOOST_TEST((*a)->spec().source == f.manifest().string());
}

BOOST_AUTO_TEST_CASE(MissingTorchScriptFileIsAnIoErrorNamingIt) {
  const Fixture& f = Fixture::Get();
  const fs::path dir = f.Scratch("missing_file");
  nlohmann::json m = FixtureManifest();
  m["backbone"] = "no_such_backbone.pt";
  fs::copy_file(f.dir() / "head.pt", dir / "head.pt", fs::copy_options::overwrite_existing);
  WriteText(dir / "manifest.json", m.dump());

  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kIoError, model.status().ToString());
  BOOST_TEST(Contains(model.status().message(), "no_such_backbone.pt"), model.status().ToString());

  // The head missing is reported the same way.
  m = FixtureManifest();
  m["backbone"] = (f.dir() / "backbone.pt").string();  // absolute paths work too
  m["head"] = "gone_head.pt";
  WriteText(dir / "manifest.json", m.dump());
  model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kIoError, model.status().ToString());
  BOOST_TEST(Contains(model.status().message(), "gone_head.pt"), model.status().ToString());

  // And a missing manifest.
  model = HealableModel::LoadTorchScript((dir / "no_manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kIoError, model.status().ToString());
  BOOST_TEST(Contains(model.status().message(), "no_manifest.json"), model.status().ToString());
}

BOOST_AUTO_TEST_CASE(WrongShapeBackboneIsRefusedWithTheShapes) {
  const Fixture& f = Fixture::Get();
  const fs::path dir = f.Scratch("wrong_width");
  nlohmann::json m = FixtureManifest();
  m["width"] = 17;  // the backbone really gives 16
  m["backbone"] = (f.dir() / "backbone.pt").string();
  m["head"] = (f.dir() / "head.pt").string();
  WriteText(dir / "manifest.json", m.dump());

  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  const std::string msg = model.status().message();
  BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kInvalidArgument, model.status().ToString());
  BOOST_TEST(Contains(msg, "backbone.pt"), msg);
  BOOST_TEST(Contains(msg, "[2, 16]"), msg);  // what it gives
  BOOST_TEST(Contains(msg, "[2, 17]"), msg);  // what the manifest says

  // Too many feature names: the backbone cannot take the rows at all.
  m = FixtureManifest();
  m["feature_names"].push_back("f6");
  m["backbone"] = (f.dir() / "backbone.pt").string();
  m["head"] = (f.dir() / "head.pt").string();
  WriteText(dir / "manifest.json", m.dump());
  model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kInvalidArgument, model.status().ToString());
  BOOST_TEST(Contains(model.status().message(), "7 features"), model.status().ToString());
}

BOOST_AUTO_TEST_CASE(ManifestWithMissingFieldIsRefused) {
  const Fixture& f = Fixture::Get();
  const fs::path dir = f.Scratch("missing_field");
  for (const char* field : {"width", "feature_names", "backbone", "head"}) {
    nlohmann::json m = FixtureManifest();
    m.erase(field);
    WriteText(dir / "manifest.json", m.dump());
    Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
    BOOST_REQUIRE_MESSAGE(!model.ok(), "manifest without '" << field << "' was accepted");
    BOOST_CHECK_MESSAGE(model.status().code() == StatusCode::kInvalidArgument, model.status().ToString());
    BOOST_TEST(Contains(model.status().message(), field), model.status().ToString());
    BOOST_TEST(Contains(model.status().message(), "manifest.json"), model.status().ToString());
  }
  // A bad head_output value is refused by name too.
  nlohmann::json m = FixtureManifest();
  m["head_output"] = "odds";
  WriteText(dir / "manifest.json", m.dump());
  Result<std::shared_ptr<HealableModel>> model = HealableModel::LoadTorchScript((dir / "manifest.json").string());
  BOOST_REQUIRE(!model.ok());
  BOOST_TEST(Contains(model.status().message(), "odds"), model.status().ToString());
}
