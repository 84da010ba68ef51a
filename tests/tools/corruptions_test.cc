#define BOOST_TEST_MODULE tools_corruptions
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "reflex-sim/corruptions.h"

using reflex::sim::CorruptImages;

namespace {

constexpr size_t kSide = 28, kCount = 200;

// Blobs of varied brightness on a dark background, like clothing items.
std::vector<float> Images() {
  std::vector<float> x(kCount * kSide * kSide, 0.0f);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.2f, 0.9f);
  for (size_t i = 0; i < kCount; ++i) {
    const float level = u(rng);
    for (size_t r = 6; r < 22; ++r)
      for (size_t c = 8; c < 20; ++c) x[i * kSide * kSide + r * kSide + c] = level;
  }
  return x;
}

// Blobs with a grain inside and edges off the even pixel grid (so that pixelation and blurs
// have detail to lose at every severity).
std::vector<float> TexturedImages() {
  std::vector<float> x(kCount * kSide * kSide, 0.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> level(0.2f, 0.9f), grain(0.6f, 1.0f);
  for (size_t i = 0; i < kCount; ++i) {
    const float l = level(rng);
    for (size_t r = 7; r < 22; ++r)
      for (size_t c = 9; c < 20; ++c) x[i * kSide * kSide + r * kSide + c] = l * grain(rng);
  }
  return x;
}

double MeanAbsChange(const std::string& name, int severity, bool textured = false) {
  std::vector<float> clean = textured ? TexturedImages() : Images(), x = clean;
  BOOST_REQUIRE(CorruptImages(name, severity, 7, x.data(), kCount, kSide, kSide).ok());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    BOOST_REQUIRE(x[i] >= 0.0f && x[i] <= 1.0f);
    sum += std::fabs(x[i] - clean[i]);
  }
  return sum / x.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(SameSeedGivesTheSameImagesAndAnotherSeedOthers) {
  for (const std::string& name : {"gaussian_noise", "shift"}) {
    std::vector<float> all = Images(), split = Images();
    BOOST_REQUIRE(CorruptImages(name, 3, 11, all.data(), kCount, kSide, kSide).ok());
    BOOST_REQUIRE(CorruptImages(name, 3, 11, split.data(), kCount, kSide, kSide).ok());
    BOOST_TEST((all == split));
    std::vector<float> other = Images();
    BOOST_REQUIRE(CorruptImages(name, 3, 12, other.data(), kCount, kSide, kSide).ok());
    BOOST_TEST((all != other));
  }
}

BOOST_AUTO_TEST_CASE(HigherSeverityChangesImagesMore) {
  for (const std::string& name : {"gaussian_noise", "brightness", "contrast", "shift"}) {
    double previous = 0;
    for (int s = 1; s <= 5; ++s) {
      const double change = MeanAbsChange(name, s);
      BOOST_TEST_INFO(name << " severity " << s);
      BOOST_TEST(change > previous);
      previous = change;
    }
  }
  BOOST_TEST(MeanAbsChange("none", 5) == 0.0);
}

BOOST_AUTO_TEST_CASE(UnknownCorruptionOrSeverityIsRefused) {
  std::vector<float> x = Images();
  auto s = CorruptImages("frost", 1, 1, x.data(), kCount, kSide, kSide);
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("unknown corruption 'frost' (known: none, gaussian_noise") == 0u);
  BOOST_TEST(!CorruptImages("contrast", 6, 1, x.data(), kCount, kSide, kSide).ok());
}

// The MNIST-C / ImageNet-C style additions: at least ten beyond the original five.
const std::vector<std::string> kAdded{"shot_noise", "impulse_noise", "speckle_noise", "gaussian_blur", "motion_blur", "fog",
                                      "spatter",    "pixelate",      "elastic",       "zoom",          "rotate",      "stripe"};

BOOST_AUTO_TEST_CASE(TheAddedCorruptionsAreKnownAfterTheOriginalFive) {
  const auto& names = reflex::sim::CorruptionNames();
  BOOST_TEST((std::vector<std::string>(names.begin(), names.begin() + 5) ==
              std::vector<std::string>{"none", "gaussian_noise", "brightness", "contrast", "shift"}));
  for (const std::string& name : kAdded) BOOST_TEST((std::find(names.begin(), names.end(), name) != names.end()), name);
  BOOST_TEST(names.size() >= 15u);
}

BOOST_AUTO_TEST_CASE(AddedCorruptionsAreDeterministicInTheSeedAndStayInRange) {
  const std::vector<std::string> random{"shot_noise", "impulse_noise", "speckle_noise", "motion_blur", "fog",
                                        "spatter",    "elastic",       "rotate",        "stripe"};
  for (const std::string& name : kAdded) {
    for (int severity : {1, 5}) {
      BOOST_TEST_INFO(name << " severity " << severity);
      std::vector<float> a = TexturedImages(), b = a, other = a;
      BOOST_REQUIRE(CorruptImages(name, severity, 21, a.data(), kCount, kSide, kSide).ok());
      BOOST_REQUIRE(CorruptImages(name, severity, 21, b.data(), kCount, kSide, kSide).ok());
      BOOST_REQUIRE(CorruptImages(name, severity, 22, other.data(), kCount, kSide, kSide).ok());
      BOOST_TEST((a == b));
      BOOST_TEST((a != TexturedImages()));
      const bool drawn = std::find(random.begin(), random.end(), name) != random.end();
      BOOST_TEST(((a != other) == drawn));
      for (float v : a) BOOST_REQUIRE(v >= 0.0f && v <= 1.0f);
    }
  }
}

BOOST_AUTO_TEST_CASE(AddedCorruptionsChangeImagesMoreAtHigherSeverity) {
  for (const std::string& name : kAdded) {
    double previous = 0;
    for (int s = 1; s <= 5; ++s) {
      const double change = MeanAbsChange(name, s, true);
      BOOST_TEST_INFO(name << " severity " << s << " change " << change);
      BOOST_TEST(change > previous);
      previous = change;
    }
  }
}
