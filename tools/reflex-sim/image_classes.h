// Class names of an image benchmark and the class rules written against them.
//
// Rules over images use the pixel features px0 .. px{H*W-1} (row-major, values in [0, 1]) and
// end in `=> class NAME` (core/rule_parser.h). Class names come from --class-names, else from
// the named data set (Fashion-MNIST: "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
// "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), else they are the label digits "0".."K-1"
// (written quoted in rules: `=> class "3"`).
//
// Plain functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/rules.h"
#include "core/status.h"

namespace reflex::sim {

// `given` (from --class-names) when not empty, else the data set's names, else "0".."K-1".
// InvalidArgument when `given` does not have `num_classes` names.
Result<std::vector<std::string>> ImageClassNames(const std::vector<std::string>& given, const std::string& dataset,
                                                 size_t num_classes);

// "px0" .. "px{pixels-1}".
std::vector<std::string> PixelFeatureNames(size_t pixels);

// Reads a class-rules file over `pixels` pixel features and `class_names`. Errors name the file
// (and line and column for a parse error).
Result<RuleSet> LoadImageRules(const std::string& path, size_t pixels, const std::vector<std::string>& class_names);

}  // namespace reflex::sim
