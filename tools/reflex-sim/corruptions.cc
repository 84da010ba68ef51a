#include "reflex-sim/corruptions.h"

#include <algorithm>
#include <random>

#include "reflex-sim/corruption_ops.h"

namespace reflex::sim {

namespace {

float Clip(float v) { return std::min(1.0f, std::max(0.0f, v)); }

std::mt19937_64 ImageRng(uint64_t seed, size_t index) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(index),
                    static_cast<uint32_t>(static_cast<uint64_t>(index) >> 32), 0x5EEDu};
  return std::mt19937_64(seq);
}

// The corruptions of corruption_ops.h, by name.
void ApplyNamed(const std::string& name, corruption::Image im, int k, std::mt19937_64& rng) {
  using namespace corruption;
  if (name == "shot_noise") ShotNoise(im, k, rng);
  else if (name == "impulse_noise") ImpulseNoise(im, k, rng);
  else if (name == "speckle_noise") SpeckleNoise(im, k, rng);
  else if (name == "gaussian_blur") GaussianBlur(im, k);
  else if (name == "motion_blur") MotionBlur(im, k, rng);
  else if (name == "fog") Fog(im, k, rng);
  else if (name == "spatter") Spatter(im, k, rng);
  else if (name == "pixelate") Pixelate(im, k);
  else if (name == "elastic") Elastic(im, k, rng);
  else if (name == "zoom") Zoom(im, k);
  else if (name == "rotate") Rotate(im, k, rng);
  else if (name == "stripe") Stripe(im, k, rng);
}

}  // namespace

const std::vector<std::string>& CorruptionNames() {
  static const std::vector<std::string> names{
      "none",          "gaussian_noise", "brightness", "contrast",  "shift",   "shot_noise",
      "impulse_noise", "speckle_noise",  "gaussian_blur", "motion_blur", "fog",  "spatter",
      "pixelate",      "elastic",        "zoom",       "rotate",    "stripe"};
  return names;
}

Status CorruptImages(const std::string& name, int severity, uint64_t seed, float* pixels, size_t count,
                     size_t height, size_t width) {
  const auto& names = CorruptionNames();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("unknown corruption '" + name + "' (known: " + list + ")");
  }
  if (severity < 1 || severity > 5) {
    return Status::InvalidArgument("corruption severity " + std::to_string(severity) + " is outside 1..5");
  }
  const size_t n = height * width;
  const int k = severity - 1;
  if (name == "none") return Status();
  for (size_t img = 0; img < count; ++img) {
    float* x = pixels + img * n;
    if (name == "gaussian_noise") {
      static const float kSigma[] = {0.08f, 0.12f, 0.18f, 0.26f, 0.38f};
      std::mt19937_64 rng = ImageRng(seed, img);
      std::normal_distribution<float> noise(0.0f, kSigma[k]);
      for (size_t i = 0; i < n; ++i) x[i] = Clip(x[i] + noise(rng));
    } else if (name == "brightness") {
      static const float kShift[] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
      for (size_t i = 0; i < n; ++i) x[i] = Clip(x[i] + kShift[k]);
    } else if (name == "contrast") {
      static const float kFactor[] = {0.4f, 0.3f, 0.2f, 0.1f, 0.05f};
      double mean = 0;
      for (size_t i = 0; i < n; ++i) mean += x[i];
      const float m = static_cast<float>(mean / n);
      for (size_t i = 0; i < n; ++i) x[i] = Clip((x[i] - m) * kFactor[k] + m);
    } else if (name == "shift") {
      static const int kMax[] = {2, 3, 4, 5, 6};
      std::mt19937_64 rng = ImageRng(seed, img);
      std::uniform_int_distribution<int> d(-kMax[k], kMax[k]);
      const int dx = d(rng), dy = d(rng);
      std::vector<float> src(x, x + n);
      for (size_t r = 0; r < height; ++r) {
        for (size_t c = 0; c < width; ++c) {
          const long sr = static_cast<long>(r) - dy, sc = static_cast<long>(c) - dx;
          const bool inside = sr >= 0 && sc >= 0 && sr < static_cast<long>(height) && sc < static_cast<long>(width);
          x[r * width + c] = inside ? src[sr * width + sc] : 0.0f;
        }
      }
    } else {
      std::mt19937_64 rng = ImageRng(seed, img);
      ApplyNamed(name, corruption::Image{x, height, width}, k, rng);
    }
  }
  return Status();
}

}  // namespace reflex::sim
