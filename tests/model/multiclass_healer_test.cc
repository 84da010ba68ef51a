#define BOOST_TEST_MODULE model_multiclass_healer
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "core/rules.h"
#include "model/frozen_parts.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"

#if __has_include(<torch/torch.h>)
#include "model/input_alignment.h"
#include "model/model_parts.h"
#define REFLEX_TEST_HAS_TORCH 1
#else
#define REFLEX_TEST_HAS_TORCH 0
#endif

// A softmax (K-class) model: scores K probabilities per row, trains, caches, and heals only its
// adapter under an image corruption.
namespace reflex {
namespace {

constexpr uint32_t kSide = 8, kClasses = 3;
constexpr size_t kPixels = kSide * kSide;

struct Images {
  std::vector<float> pixels;
  std::vector<uint8_t> labels;
  size_t n = 0;
  BatchView view() const { return {pixels.data(), n, kPixels}; }
};

// Class c is a bright 3x3 square in one of three places, on faint noise.
Images Make(size_t n, uint64_t seed, float brightness = 0.0f) {
  Images d;
  d.n = n;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(0.0f, 0.2f);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = static_cast<uint8_t>(i % kClasses);
    d.labels.push_back(c);
    for (size_t p = 0; p < kPixels; ++p) d.pixels.push_back(u(rng));
    const size_t r0 = 1 + 2 * c, c0 = 4 - c;
    for (size_t r = r0; r < r0 + 3; ++r)
      for (size_t col = c0; col < c0 + 3; ++col) d.pixels[i * kPixels + r * kSide + col] = 0.9f;
  }
  for (float& v : d.pixels) v = std::min(1.0f, v + brightness);
  return d;
}

std::shared_ptr<HealableModel> Trained() {
  static std::shared_ptr<HealableModel> model = [] {
    auto m = HealableModel::CreateImageCnn(kSide, kSide, kClasses, 5, 16);
    BOOST_REQUIRE(m.ok());
    Images train = Make(600, 1);
    TrainConfig config;
    config.epochs = 5;
    config.batch_size = 32;
    config.lr = 0.003;
    BOOST_REQUIRE(TrainClassifier(**m, train.view(), train.labels.data(), config).ok());
    return *m;
  }();
  return model;
}

double Accuracy(const HealableModel& model, const AdapterVersion& adapter, const Images& d) {
  auto probs = model.Score(adapter, d.view());
  BOOST_REQUIRE(probs.ok());
  size_t right = 0;
  for (size_t i = 0; i < d.n; ++i) {
    const float* p = probs->data() + i * kClasses;
    right += static_cast<size_t>(std::max_element(p, p + kClasses) - p) == d.labels[i];
  }
  return static_cast<double>(right) / d.n;
}

std::vector<std::vector<char>> FrozenBytes(const HealableModel& model) {
  std::vector<std::vector<char>> out;
#if REFLEX_TEST_HAS_TORCH
  for (const torch::Tensor& p : model.parts().FrozenParameters()) {
    torch::Tensor c = p.detach().contiguous();
    const char* bytes = static_cast<const char*>(c.data_ptr());
    out.emplace_back(bytes, bytes + c.numel() * c.element_size());
  }
#endif
  return out;
}

HealPolicy ImagePolicy() {
  HealPolicy p;
  p.distill_steps = 10;
  p.distill_lr = 0.001;
  p.w_entropy = 0.1;
  p.entropy_filter = 0.9;
  p.w_diversity = 1.0;
  p.w_rule = 0;
  p.w_proximal = 0;
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(SoftmaxModelScoresOneProbabilityPerClass) {
  auto model = Trained();
  BOOST_TEST(model->num_classes() == kClasses);
  BOOST_TEST(model->outputs_per_row() == kClasses);
  Images d = Make(30, 2);
  auto probs = model->Score(model->initial_adapter(), d.view());
  BOOST_REQUIRE(probs.ok());
  BOOST_REQUIRE(probs->size() == 30 * kClasses);
  for (size_t i = 0; i < 30; ++i) {
    double sum = 0;
    for (size_t c = 0; c < kClasses; ++c) sum += (*probs)[i * kClasses + c];
    BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-5));
  }
  BOOST_TEST(Accuracy(*model, model->initial_adapter(), d) > 0.9);
  // Embed + ScoreEmbedded gives the same probabilities as Score.
  std::vector<float> hidden(30 * model->adapter_dims().width), via_hidden(30 * kClasses);
  BOOST_REQUIRE(model->Embed(d.view(), hidden.data()).ok());
  auto compiled = model->Compile(model->initial_adapter());
  BOOST_REQUIRE(model->ScoreEmbedded(**compiled, {hidden.data(), 30, model->adapter_dims().width}, via_hidden.data()).ok());
  for (size_t i = 0; i < via_hidden.size(); ++i) BOOST_TEST(via_hidden[i] == (*probs)[i], boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(SoftmaxModelHealsWithoutTouchingBackboneOrHeadBytes) {
  auto model = Trained();
  Images clean = Make(600, 3);
  auto cal = Calibrate(*model, clean.view(), clean.labels.data(), nullptr);
  BOOST_REQUIRE(cal.ok());
  BOOST_TEST(cal->class_rate.size() == kClasses);
  const uint64_t fingerprint = model->FrozenFingerprint();
  const auto bytes = FrozenBytes(*model);
  Images drifted = Make(300, 4, 0.45f);

  for (bool label_free : {true, false}) {
    HealJob job;
    job.base = model->initial_adapter();
    job.rows = drifted.pixels;
    job.n_rows = drifted.n;
    job.policy = ImagePolicy();
    job.new_version = 1;
    if (!label_free) {
      job.labels.assign(drifted.n, -1);
      for (size_t i = 0; i < drifted.n; i += 5) job.labels[i] = static_cast<int8_t>(drifted.labels[i]);
    }
    auto healed = Heal(*model, *cal, job);
    BOOST_REQUIRE_MESSAGE(healed.ok(), healed.status().message());
    BOOST_TEST_INFO(healed->report.reason);
    BOOST_TEST(healed->report.aligned);
    BOOST_TEST(healed->report.num_classes == kClasses);
    BOOST_REQUIRE(healed->candidate.has_value());
    BOOST_TEST(healed->candidate->Verify().ok());
    BOOST_TEST(Accuracy(*model, *healed->candidate, drifted) >= Accuracy(*model, model->initial_adapter(), drifted));
    BOOST_TEST(model->FrozenFingerprint() == fingerprint);
    BOOST_TEST((FrozenBytes(*model) == bytes));
  }
  // A Tent-style heal (entropy only, from the parent) also leaves the frozen parts alone.
  HealJob tent;
  tent.base = model->initial_adapter();
  tent.rows = drifted.pixels;
  tent.n_rows = drifted.n;
  tent.policy = ImagePolicy();
  tent.policy.w_distill = 0;
  tent.policy.w_diversity = 0;
  tent.policy.w_entropy = 1;
  tent.policy.max_class_tv = 1.0;
  tent.new_version = 1;
  auto healed = Heal(*model, *cal, tent);
  BOOST_REQUIRE(healed.ok());
  BOOST_TEST(!healed->report.aligned);
  BOOST_TEST(model->FrozenFingerprint() == fingerprint);
  BOOST_TEST((FrozenBytes(*model) == bytes));
}

// Pixel px(r*8+c) lies only inside class c's square: (1,6) Top, (4,5) Middle, (7,2) Bottom. The
// broken rule fires on the background, which brightness lifts above its threshold.
RuleSet SquareRules() {
  std::vector<std::string> pixels;
  for (size_t i = 0; i < kPixels; ++i) pixels.push_back("px" + std::to_string(i));
  auto rules = RuleSet::Parse(
      "rule top: px14 > 0.8 => class Top\n"
      "rule middle: px37 > 0.8 => class Middle\n"
      "rule bottom: px58 > 0.8 => class \"Bottom row\"\n"
      "rule broken: px0 > 0.3 => class Top\n",
      pixels, "squares.rules", {"Top", "Middle", "Bottom row"});
  BOOST_REQUIRE_MESSAGE(rules.ok(), rules.status().message());
  return *rules;
}

#if REFLEX_TEST_HAS_TORCH
// A 4x4 block on a 16x16 canvas, its top-left corner at (r, c).
std::vector<float> Block(int r, int c) {
  std::vector<float> img(16 * 16, 0.0f);
  for (int i = r; i < r + 4; ++i)
    for (int j = c; j < c + 4; ++j) img[i * 16 + j] = 0.8f;
  return img;
}

BOOST_AUTO_TEST_CASE(TranslatedImagesAreRecentredAndCentredOnesAreLeftWhereTheyAre) {
  HealCalibration cal;
  std::vector<float> clean = Block(6, 6);  // centroid (7.5, 7.5)
  cal.row_mean = torch::tensor(clean).mean().item<double>();
  cal.row_sd = torch::tensor(clean).std(0, false).item<double>();
  cal.centre = {7.5, 7.5};
  cal.centre_spread = 0.5;
  std::vector<float> moved;
  for (auto [r, c] : std::vector<std::pair<int, int>>{{1, 3}, {11, 9}, {4, 12}, {10, 0}}) {
    std::vector<float> img = Block(r, c);
    moved.insert(moved.end(), img.begin(), img.end());
  }
  torch::Tensor x = torch::tensor(moved).view({4, 256});
  InputAlignment fit = FitInputAlignment(x, cal, 16, 16, 2.0);
  BOOST_TEST(fit.recentre);
  torch::Tensor aligned = ApplyInputAlignment(x, fit, 16, 16).contiguous();
  torch::Tensor want = torch::tensor(clean).view({1, 256}).expand({4, 256});
  BOOST_TEST(torch::allclose(aligned, want, 1e-5, 1e-6));

  // Centred images (spread under a pixel): the fit never moves them.
  std::vector<float> centred = Block(6, 6), nudged = Block(6, 7);
  centred.insert(centred.end(), nudged.begin(), nudged.end());
  torch::Tensor y = torch::tensor(centred).view({2, 256});
  InputAlignment still = FitInputAlignment(y, cal, 16, 16, 2.0);
  BOOST_TEST(!still.recentre);
  BOOST_TEST(!FitInputAlignment(x, cal, 16, 16, 0.0).recentre);  // factor 0 turns it off
}
#endif

BOOST_AUTO_TEST_CASE(ClassRulesThatStillHoldGiveWeakLabelsAndBrokenOnesAreDistrusted) {
  auto model = Trained();
  const RuleSet rules = SquareRules();
  Images clean = Make(600, 3);
  auto cal = Calibrate(*model, clean.view(), clean.labels.data(), &rules);
  BOOST_REQUIRE(cal.ok());
  BOOST_REQUIRE(cal->rule_fire.size() == 4u);
  BOOST_TEST(cal->rule_fire[0] == 1.0 / 3, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(cal->rule_fire[3] == 0.0);
  Images drifted = Make(300, 4, 0.45f);
  HealJob job;
  job.base = model->initial_adapter();
  job.rows = drifted.pixels;
  job.n_rows = drifted.n;
  job.policy = ImagePolicy();
  job.policy.w_rule = 1.0;
  job.rules = &rules;
  job.new_version = 1;
  auto healed = Heal(*model, *cal, job);
  BOOST_REQUIRE_MESSAGE(healed.ok(), healed.status().message());
  BOOST_TEST_INFO(healed->report.reason);
  BOOST_TEST(healed->report.trusted_rules == 3);
  BOOST_TEST(healed->report.distrusted_rules == 1);
  BOOST_REQUIRE(healed->candidate.has_value());
  BOOST_TEST(Accuracy(*model, *healed->candidate, drifted) >= Accuracy(*model, model->initial_adapter(), drifted));
}

BOOST_AUTO_TEST_CASE(ClassRulesOfAnotherModelOrWithoutRowsAreRefused) {
  auto model = Trained();
  const RuleSet rules = SquareRules();
  Images clean = Make(60, 3);
  auto cal = Calibrate(*model, clean.view(), clean.labels.data(), &rules);
  BOOST_REQUIRE(cal.ok());
  std::vector<std::string> pixels;
  for (size_t i = 0; i < kPixels; ++i) pixels.push_back("px" + std::to_string(i));
  auto two_classes = RuleSet::Parse("rule a: px0 > 0.5 => class A", pixels, "two.rules", {"A", "B"});
  BOOST_REQUIRE(two_classes.ok());
  HealJob job;
  job.base = model->initial_adapter();
  job.rows = clean.pixels;
  job.n_rows = clean.n;
  job.policy = ImagePolicy();
  job.rules = &*two_classes;
  auto wrong = Heal(*model, *cal, job);
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.status().message().find("2 classes, the model has 64 features and 3 classes") != std::string::npos);
  // Rules read pixels: a job that carries only backbone outputs cannot use them.
  job.rules = &rules;
  job.hidden.assign(clean.n * model->adapter_dims().width, 0.0f);
  job.rows.clear();
  auto no_rows = Heal(*model, *cal, job);
  BOOST_REQUIRE(!no_rows.ok());
  BOOST_TEST(no_rows.status().message().find("class rules need the rows' features") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(TrainedNetworkRoundTripsThroughItsCacheFile) {
  auto model = Trained();
  const std::string path = (std::filesystem::temp_directory_path() / ("reflex_cnn_" + std::to_string(::getpid()) + ".pt")).string();
  BOOST_REQUIRE(SaveFrozenParts(*model, path).ok());
  auto fresh = HealableModel::CreateImageCnn(kSide, kSide, kClasses, 99, 16);
  BOOST_REQUIRE(fresh.ok());
  BOOST_TEST((*fresh)->FrozenFingerprint() != model->FrozenFingerprint());
  BOOST_REQUIRE(LoadFrozenParts(**fresh, path).ok());
  BOOST_TEST((*fresh)->FrozenFingerprint() == model->FrozenFingerprint());
  std::filesystem::remove(path);
  auto missing = LoadFrozenParts(**fresh, path);
  BOOST_TEST(!missing.ok());
  BOOST_TEST(missing.message().find(path) == 0u);
}

}  // namespace reflex
