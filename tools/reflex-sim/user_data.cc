#include "user_data.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "core/class_csv.h"
#include "core/csv.h"
#include "core/rules.h"

namespace reflex::sim {

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<ScenarioData> LoadUserData(const std::string& train_path, const std::string& stream_path,
                                  const std::string& label, const std::string& rules_path,
                                  const std::string& monitor, size_t batch_size) {
  ScenarioData s;
  s.name = "csv";
  s.batch_size = batch_size;
  auto train = ReadLabeledCsv(train_path, label);
  if (!train.ok()) return train.status();
  s.train = std::move(*train);
  auto stream = ReadLabeledCsv(stream_path, label, s.train.feature_names);
  if (!stream.ok()) return stream.status();
  s.stream = std::move(*stream);
  if (s.stream.rows() < batch_size) {
    return Status::InvalidArgument(stream_path + ": " + std::to_string(s.stream.rows()) +
                                   " rows is less than one batch of " + std::to_string(batch_size));
  }
  if (!rules_path.empty()) {
    std::ifstream in(rules_path);
    if (!in) return Status::IoError(rules_path + ": cannot open the rules file");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = RuleSet::Parse(text.str(), s.train.feature_names, rules_path);
    if (!parsed.ok()) return parsed.status();
    s.rules_text = text.str();
  }
  for (const std::string& name : SplitCommas(monitor)) {
    size_t i = 0;
    while (i < s.train.feature_names.size() && s.train.feature_names[i] != name) ++i;
    if (i == s.train.feature_names.size()) {
      return Status::InvalidArgument("--monitor: '" + name + "' is not a feature column of " + train_path);
    }
    s.monitored.push_back(i);
  }
  return s;
}

Result<ScenarioData> LoadBundleStream(const ModelBundle& bundle, const std::string& stream_path,
                                      const std::string& label, size_t batch_size) {
  ScenarioData s;
  s.name = "bundle";
  s.batch_size = batch_size;
  if (!bundle.clean || !bundle.model) return Status::InvalidArgument(bundle.dir + ": the bundle is not loaded");
  s.train = *bundle.clean;
  auto stream = ReadClassCsv(stream_path, ClassCsvSpec{bundle.model->spec().feature_names, label, bundle.classes});
  if (!stream.ok()) return stream.status();
  s.stream = std::move(*stream);
  if (s.stream.rows() < batch_size) {
    return Status::InvalidArgument(stream_path + ": " + std::to_string(s.stream.rows()) +
                                   " rows is less than one batch of " + std::to_string(batch_size));
  }
  if (bundle.rules && !bundle.rules->empty()) s.rules_text = bundle.rules->ToText();
  s.monitored = bundle.monitored;
  return s;
}

}  // namespace reflex::sim
