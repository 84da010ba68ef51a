#include "image_models.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/checksum.h"
#include "model/frozen_parts.h"
#include "model/trainer.h"

namespace reflex::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

Result<std::shared_ptr<HealableModel>> TrainedCnn(const CnnCacheSettings& opt, const IdxDataset& data,
                                                  const std::vector<float>& pixels, const std::string& what,
                                                  uint64_t seed) {
  auto model_or = HealableModel::CreateImageCnn(static_cast<uint32_t>(data.images.height), static_cast<uint32_t>(data.images.width),
                                                static_cast<uint32_t>(data.num_classes), seed);
  if (!model_or.ok()) return model_or.status();
  std::shared_ptr<HealableModel> model = *model_or;
  TrainConfig config;
  config.epochs = opt.epochs;
  config.batch_size = 128;
  config.lr = 0.002;
  config.cosine_decay = true;
  config.seed = seed;
  // The cache key covers the architecture, the training data and every training setting.
  const std::string arch = "cnn-c16-c32-w128-v1 " + what + " epochs=" + std::to_string(config.epochs) +
                           " batch=128 lr=0.002 cosine seed=" + std::to_string(seed);
  uint64_t key = Fnv1a64(arch.data(), arch.size());
  key = Fnv1a64(pixels.data(), pixels.size() * sizeof(float), key);
  key = Fnv1a64(data.labels.data(), data.labels.size(), key);
  const std::filesystem::path file = std::filesystem::path(opt.cache_dir) / (opt.dataset + "-" + what + "-" + Hex(key) + ".pt");
  if (std::filesystem::exists(file)) {
    REFLEX_RETURN_IF_ERROR(LoadFrozenParts(*model, file.string()));
    if (opt.log) *opt.log << "[cache] " << what << ": loaded " << file.string() << "\n";
    return model;
  }
  const auto started = Clock::now();
  if (opt.log) *opt.log << "[train] " << what << ": " << data.images.count << " images, " << opt.epochs << " epoch(s)\n";
  REFLEX_RETURN_IF_ERROR(TrainClassifier(*model, {pixels.data(), data.images.count, data.images.pixels_per_image()},
                                         data.labels.data(), config, [&](int epoch, double loss) {
                                           if (opt.log) *opt.log << "[train] " << what << ": epoch " << epoch + 1 << " loss "
                                                                 << Fixed(loss, 4) << " (" << Fixed(Seconds(started), 1) << " s)\n";
                                         }).WithContext("training the " + what));
  std::error_code error;
  std::filesystem::create_directories(opt.cache_dir, error);
  Status saved = SaveFrozenParts(*model, file.string());
  if (opt.log) *opt.log << "[train] " << what << ": " << (saved.ok() ? "cached at " + file.string() : "not cached: " + saved.message()) << "\n";
  return model;
}


}  // namespace reflex::sim
