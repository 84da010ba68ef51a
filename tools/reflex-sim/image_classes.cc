#include "image_classes.h"

namespace reflex::sim {

Result<std::vector<std::string>> ImageClassNames(const std::vector<std::string>& given, const std::string& dataset,
                                                 size_t num_classes) {
  if (!given.empty()) {
    if (given.size() != num_classes) {
      return Status::InvalidArgument("--class-names: " + std::to_string(given.size()) + " names for " +
                                     std::to_string(num_classes) + " classes in the labels");
    }
    return given;
  }
  if (dataset == "fashion-mnist" && num_classes == 10) {
    return std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  }
  std::vector<std::string> names;
  for (size_t c = 0; c < num_classes; ++c) names.push_back(std::to_string(c));
  return names;
}

std::vector<std::string> PixelFeatureNames(size_t pixels) {
  std::vector<std::string> names;
  names.reserve(pixels);
  for (size_t i = 0; i < pixels; ++i) names.push_back("px" + std::to_string(i));
  return names;
}

Result<RuleSet> LoadImageRules(const std::string& path, size_t pixels, const std::vector<std::string>& class_names) {
  return RuleSet::LoadFile(path, PixelFeatureNames(pixels), class_names);
}

}  // namespace reflex::sim
