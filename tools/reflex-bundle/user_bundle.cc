#include "user_bundle.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/class_csv.h"
#include "core/rules.h"
#include "model/healable_model.h"
#include "user_data.h"

namespace reflex::sim {
namespace {

namespace fs = std::filesystem;

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

std::string Fixed(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// True when the export's head is a 2-class softmax (served as binary: p of its second class).
bool TwoClassSoftmax(const std::string& export_dir) {
  auto text = ReadWholeFile((fs::path(export_dir) / "manifest.json").string());
  if (!text.ok()) return false;
  try {
    return nlohmann::json::parse(*text).value("head_kind", std::string("binary")) == "softmax";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Result<std::vector<std::string>> ExportClasses(const std::string& export_dir) {
  const std::string path = (fs::path(export_dir) / "manifest.json").string();
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status().WithContext("--model: reading the export (tools/export_model.py writes it)");
  try {
    const nlohmann::json m = nlohmann::json::parse(*text);
    if (m.contains("class_names")) return m["class_names"].get<std::vector<std::string>>();
    const std::string kind = m.value("head_kind", std::string("binary"));
    const uint32_t k = m.value("num_classes", 2u);
    std::vector<std::string> names;
    for (uint32_t i = 0; i < (kind == "binary" ? 2u : k); ++i) names.push_back(std::to_string(i));
    return names;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": not an export manifest: " + e.what());
  }
}

Result<UserBundleReport> WriteUserBundle(const UserBundleOptions& opt) {
  if (opt.export_dir.empty() || opt.clean_path.empty() || opt.label_column.empty() || opt.out_dir.empty()) {
    return Status::InvalidArgument("a bundle of your own model needs --model, --clean, --label and --out");
  }
  // The export first: it says which columns and classes the clean rows must have.
  auto model = HealableModel::LoadTorchScript((fs::path(opt.export_dir) / "manifest.json").string());
  if (!model.ok()) return model.status().WithContext("--model " + opt.export_dir);
  auto classes = ExportClasses(opt.export_dir);
  if (!classes.ok()) return classes.status();
  const std::vector<std::string>& features = (*model)->spec().feature_names;
  const bool multiclass = (*model)->num_classes() >= 2;

  auto clean = ReadClassCsv(opt.clean_path, ClassCsvSpec{features, opt.label_column, *classes});
  if (!clean.ok()) return clean.status();

  TorchScriptBundleInput in;
  in.export_dir = opt.export_dir;
  in.label_column = opt.label_column;
  in.classes = *classes;
  size_t rule_count = 0;
  if (!opt.rules_path.empty()) {
    auto text = ReadWholeFile(opt.rules_path);
    if (!text.ok()) return text.status().WithContext("--rules");
    auto rules = RuleSet::Parse(*text, features, opt.rules_path, multiclass ? *classes : std::vector<std::string>{});
    if (!rules.ok()) return rules.status();
    rule_count = rules->size();
    in.rules_text = *text;
  }
  for (const std::string& name : SplitCommas(opt.monitor)) {
    size_t i = 0;
    while (i < features.size() && features[i] != name) ++i;
    if (i == features.size()) return Status::InvalidArgument("--monitor: '" + name + "' is not one of the model's features");
    in.monitored.push_back(i);
  }
  in.clean = std::move(*clean);

  auto summary = WriteTorchScriptBundle(opt.out_dir, in);
  if (!summary.ok()) return summary.status();
  // Load it back exactly as the coordinator, the replicas and the healers will.
  auto loaded = LoadModelBundle(opt.out_dir);
  if (!loaded.ok()) return loaded.status().WithContext("loading the bundle just written");

  UserBundleReport r;
  r.summary = *summary;
  r.classes = *classes;
  r.features = features;
  r.width = (*model)->spec().width;
  r.rules = rule_count;
  r.head = multiclass ? std::to_string((*model)->num_classes()) + "-class softmax"
                      : classes->size() == 2 && TwoClassSoftmax(opt.export_dir) ? "2-class softmax (served as binary)"
                                                                              : "binary";
  return r;
}

std::string DescribeUserBundle(const UserBundleOptions& opt, const UserBundleReport& r) {
  std::ostringstream out;
  std::string class_list;
  for (size_t k = 0; k < r.classes.size(); ++k) class_list += (k ? ", " : "") + r.classes[k];
  out << "wrote " << opt.out_dir << ": your TorchScript model (" << r.features.size() << " features -> width " << r.width
      << " -> " << r.head << " head, classes " << class_list << "), label column '" << opt.label_column << "'\n";
  const CleanSummary& s = r.summary;
  auto share = [&](size_t n) { return Percent(s.rows ? static_cast<double>(n) / s.rows : 0.0); };
  out << "  clean rows: " << s.rows << " (";
  for (size_t k = 0; k < r.classes.size() && k < s.class_rows.size(); ++k) {
    out << (k ? ", " : "") << "class " << r.classes[k] << ": " << s.class_rows[k] << " = " << share(s.class_rows[k]);
  }
  out << ")\n  version 0 on them: accuracy " << Percent(s.accuracy);
  if (r.classes.size() == 2 && s.predicted_rate.size() == 2) {
    out << ", predicts class " << r.classes[1] << " for " << Percent(s.predicted_rate[1]);
  } else {
    out << ", predicts";
    for (size_t k = 0; k < r.classes.size() && k < s.predicted_rate.size(); ++k) {
      out << (k ? "," : "") << " " << r.classes[k] << " " << Percent(s.predicted_rate[k]);
    }
  }
  if (s.score_quantiles.size() == 5) {
    const auto& q = s.score_quantiles;
    out << "; p(" << r.classes[1] << ") quantiles 5/25/50/75/95%: " << Fixed(q[0]) << " " << Fixed(q[1]) << " "
        << Fixed(q[2]) << " " << Fixed(q[3]) << " " << Fixed(q[4]);
  }
  out << "\n  rules: " << (opt.rules_path.empty() ? std::string("none") : std::to_string(r.rules) + " from " + opt.rules_path)
      << "; FIDI monitors " << (opt.monitor.empty() ? std::string("every feature") : opt.monitor) << "\n";
  return out.str();
}

}  // namespace reflex::sim
