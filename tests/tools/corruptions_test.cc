#define BOOST_TEST_MODULE tools_corruptions
#include <boost/test/unit_test.hpp>

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

double MeanAbsChange(const std::string& name, int severity) {
  std::vector<float> clean = Images(), x = clean;
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
  auto s = CorruptImages("fog", 1, 1, x.data(), kCount, kSide, kSide);
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("unknown corruption 'fog' (known: none, gaussian_noise") == 0u);
  BOOST_TEST(!CorruptImages("contrast", 6, 1, x.data(), kCount, kSide, kSide).ok());
}
