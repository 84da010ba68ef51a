#include "model/model_bundle.h"

#include <torch/serialize.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/class_csv.h"
#include "core/version_file.h"
#include "model/frozen_parts.h"
#include "model/model_parts.h"

namespace reflex {
namespace {

namespace fs = std::filesystem;
constexpr int kBundleFormat = 1;
constexpr const char* kLabelColumn = "label";

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

// "0".."K-1" (binary: "0", "1"): the classes of a bundle whose manifest names none.
std::vector<std::string> DefaultClasses(const HealableModel& model) {
  std::vector<std::string> out;
  const uint32_t k = model.num_classes() >= 2 ? model.num_classes() : 2;
  for (uint32_t i = 0; i < k; ++i) out.push_back(std::to_string(i));
  return out;
}

size_t ClassCount(const HealableModel& model) { return model.num_classes() >= 2 ? model.num_classes() : 2; }

nlohmann::json SummaryJson(const CleanSummary& s, const std::vector<std::string>& classes) {
  nlohmann::json j;
  j["rows"] = s.rows;
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t k = 0; k < s.class_rows.size() && k < classes.size(); ++k) {
    per_class[classes[k]] = {{"rows", s.class_rows[k]},
                             {"prior", s.rows ? static_cast<double>(s.class_rows[k]) / s.rows : 0.0},
                             {"predicted_rate", k < s.predicted_rate.size() ? s.predicted_rate[k] : 0.0}};
  }
  j["classes"] = per_class;
  j["accuracy_v0"] = s.accuracy;
  if (!s.score_quantiles.empty()) j["score_quantiles_v0"] = {{"p05", s.score_quantiles[0]}, {"p25", s.score_quantiles[1]},
                                                             {"p50", s.score_quantiles[2]}, {"p75", s.score_quantiles[3]},
                                                             {"p95", s.score_quantiles[4]}};
  return j;
}

}  // namespace

Result<CleanSummary> SummariseClean(const HealableModel& model, const LabeledData& clean) {
  if (clean.dims() != model.input_dims() || clean.features.size() != clean.rows() * clean.dims()) {
    return Status::InvalidArgument("clean rows have " + std::to_string(clean.dims()) + " features, the model takes " +
                                   std::to_string(model.input_dims()));
  }
  const size_t k = ClassCount(model), per_row = model.outputs_per_row(), n = clean.rows();
  std::vector<float> probs(n * per_row);
  auto v0 = model.Compile(model.initial_adapter());
  if (!v0.ok()) return v0.status();
  REFLEX_RETURN_IF_ERROR(model.Score(**v0, {clean.features.data(), n, clean.dims()}, probs.data()));
  CleanSummary s;
  s.rows = n;
  s.class_rows.assign(k, 0);
  std::vector<size_t> predicted(k, 0);
  size_t correct = 0;
  for (size_t r = 0; r < n; ++r) {
    size_t pred = 0;
    if (per_row == 1) {
      pred = probs[r] > 0.5f ? 1 : 0;
    } else {
      const float* p = probs.data() + r * per_row;
      pred = static_cast<size_t>(std::max_element(p, p + per_row) - p);
    }
    if (clean.labels[r] >= k) return Status::InvalidArgument("clean row " + std::to_string(r + 1) + ": class index out of range");
    ++s.class_rows[clean.labels[r]];
    ++predicted[pred];
    correct += pred == clean.labels[r] ? 1 : 0;
  }
  s.accuracy = n ? static_cast<double>(correct) / n : 0.0;
  for (size_t c = 0; c < k; ++c) s.predicted_rate.push_back(n ? static_cast<double>(predicted[c]) / n : 0.0);
  if (per_row == 1 && n > 0) {
    std::vector<float> sorted = probs;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.05, 0.25, 0.5, 0.75, 0.95}) {
      s.score_quantiles.push_back(sorted[std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n - 1) + 0.5))]);
    }
  }
  return s;
}

Result<CleanSummary> WriteTorchScriptBundle(const std::string& dir, const TorchScriptBundleInput& in) {
  // Everything is checked before anything is written.
  const std::string export_manifest = Join(in.export_dir, "manifest.json");
  auto export_text = ReadWholeFile(export_manifest);
  if (!export_text.ok()) return export_text.status().WithContext("reading the export (tools/export_model.py writes it)");
  nlohmann::json em;
  std::string backbone_name, head_name;
  try {
    em = nlohmann::json::parse(*export_text);
    backbone_name = em.at("backbone").get<std::string>();
    head_name = em.at("head").get<std::string>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(export_manifest + ": not an export manifest (tools/export_model.py): " + e.what());
  }
  auto model = HealableModel::LoadTorchScript(export_manifest);
  if (!model.ok()) return model.status();
  const HealableModel& m = **model;
  if (in.classes.size() != ClassCount(m)) {
    return Status::InvalidArgument(export_manifest + ": " + std::to_string(in.classes.size()) + " class names for a head of " +
                                   std::to_string(ClassCount(m)) + " classes");
  }
  if (in.clean.feature_names != m.spec().feature_names) {
    return Status::InvalidArgument("the clean rows' columns differ from the export's feature names");
  }
  for (size_t c : in.monitored) {
    if (c >= m.input_dims()) return Status::InvalidArgument("monitored column " + std::to_string(c) + " is out of range");
  }
  if (in.clean.rows() < 2) return Status::InvalidArgument("the clean data needs at least 2 rows, has " + std::to_string(in.clean.rows()));
  auto summary = SummariseClean(m, in.clean);
  if (!summary.ok()) return summary.status();
  if (m.num_classes() < 2) {
    for (size_t k = 0; k < 2; ++k) {
      if (summary->class_rows[k] == 0) {
        return Status::InvalidArgument("the clean data has no row of class '" + in.classes[k] +
                                       "': a binary model's calibration needs clean rows of both classes");
      }
    }
  }

  // The export, copied into DIR/ts/ and loaded back from there: the same frozen parameters.
  std::error_code ec;
  const std::string ts_dir = Join(dir, "ts");
  fs::create_directories(ts_dir, ec);
  if (ec) return Status::IoError(ts_dir + ": cannot create the bundle folder: " + ec.message());
  for (const auto& [from, to] : {std::pair{backbone_name, std::string("backbone.pt")}, std::pair{head_name, std::string("head.pt")}}) {
    auto bytes = ReadWholeFile(Join(in.export_dir, from));
    if (!bytes.ok()) return bytes.status().WithContext(export_manifest + " names it");
    REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(ts_dir, to), *bytes));
  }
  em["backbone"] = "backbone.pt";
  em["head"] = "head.pt";
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(ts_dir, "manifest.json"), em.dump(2) + "\n"));
  auto copied = HealableModel::LoadTorchScript(Join(ts_dir, "manifest.json"));
  if (!copied.ok()) return copied.status();
  if ((*copied)->FrozenFingerprint() != m.FrozenFingerprint()) {
    return Status::IoError(ts_dir + ": the copied model differs from " + in.export_dir + " (fingerprint " +
                           Hex((*copied)->FrozenFingerprint()) + " vs " + Hex(m.FrozenFingerprint()) + ")");
  }

  auto csv = ClassCsvText(in.clean, in.label_column, in.classes);
  if (!csv.ok()) return csv.status();
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "clean.csv"), *csv));
  if (in.rules_text) REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "rules.txt"), *in.rules_text));

  nlohmann::json b;
  b["format"] = kBundleFormat;
  b["source"] = "torchscript";
  b["torchscript_manifest"] = "ts/manifest.json";
  b["feature_names"] = m.spec().feature_names;
  b["width"] = m.spec().width;
  b["seed"] = 0;
  b["monitored"] = in.monitored;
  b["label_column"] = in.label_column;
  b["classes"] = in.classes;
  b["rules"] = in.rules_text ? nlohmann::json("rules.txt") : nlohmann::json(nullptr);
  b["frozen_fingerprint"] = Hex(m.FrozenFingerprint());
  b["clean_summary"] = SummaryJson(*summary, in.classes);
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "manifest.json"), b.dump(2) + "\n"));
  return summary;
}

Status WriteModelBundle(const std::string& dir, const HealableModel& model, uint64_t seed,
                        const LabeledData& clean, const std::string& rules_text,
                        const std::vector<size_t>& monitored) {
  const ModelSpec& spec = model.spec();
  if (spec.source != "builtin-mlp") {
    return Status::InvalidArgument("WriteModelBundle: only built-in MLP models are written; TorchScript models "
                                   "are bundled by naming their manifest in manifest.json");
  }
  if (clean.feature_names != spec.feature_names) {
    return Status::InvalidArgument("WriteModelBundle: the clean rows' columns differ from the model's features");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir + ": cannot create the bundle folder: " + ec.message());

  REFLEX_RETURN_IF_ERROR(SaveFrozenParts(model, Join(dir, "mlp.pt")));
  VersionRecord v0;
  v0.adapter = model.initial_adapter();
  v0.reason = "initial";
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "adapter0.rfx"), EncodeVersionRecord(v0)));
  REFLEX_RETURN_IF_ERROR(WriteLabeledCsv(Join(dir, "clean.csv"), clean, kLabelColumn));
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, "rules.txt"), rules_text));

  nlohmann::json m;
  m["format"] = kBundleFormat;
  m["source"] = spec.source;
  m["feature_names"] = spec.feature_names;
  m["width"] = spec.width;
  m["seed"] = seed;
  m["monitored"] = monitored;
  m["label_column"] = kLabelColumn;
  m["classes"] = {"0", "1"};
  m["rules"] = "rules.txt";
  m["frozen_fingerprint"] = Hex(model.FrozenFingerprint());
  return WriteFileAtomically(Join(dir, "manifest.json"), m.dump(2) + "\n");
}

Result<ModelBundle> LoadModelBundle(const std::string& dir) {
  const std::string manifest_path = Join(dir, "manifest.json");
  auto text = ReadWholeFile(manifest_path);
  if (!text.ok()) return text.status().WithContext("loading the model bundle");
  std::vector<std::string> features, classes;
  std::string source, fingerprint, ts_manifest, label_column, rules_file;
  uint32_t width = 0;
  uint64_t seed = 0;
  std::vector<size_t> monitored;
  std::optional<size_t> summary_rows;
  bool rules_named = false;  // the manifest says which rules file (or none)
  try {
    const nlohmann::json m = nlohmann::json::parse(*text);
    if (m.at("format").get<int>() != kBundleFormat) {
      return Status::InvalidArgument(manifest_path + ": bundle format " + m.at("format").dump() +
                                     " is not supported (this build reads format 1)");
    }
    source = m.at("source").get<std::string>();
    features = m.at("feature_names").get<std::vector<std::string>>();
    width = m.value("width", 64u);
    seed = m.value("seed", uint64_t{0});
    monitored = m.value("monitored", std::vector<size_t>{});
    fingerprint = m.value("frozen_fingerprint", std::string());
    ts_manifest = m.value("torchscript_manifest", std::string());
    label_column = m.value("label_column", std::string(kLabelColumn));
    classes = m.value("classes", std::vector<std::string>{});
    if (m.contains("rules")) {
      rules_named = true;
      if (!m["rules"].is_null()) rules_file = m["rules"].get<std::string>();
    }
    if (m.contains("clean_summary")) summary_rows = m["clean_summary"].at("rows").get<size_t>();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(manifest_path + ": missing or mistyped field: " + e.what());
  }
  for (size_t c : monitored) {
    if (c >= features.size()) {
      return Status::InvalidArgument(manifest_path + ": monitored column " + std::to_string(c) + " is out of range (" +
                                     std::to_string(features.size()) + " features)");
    }
  }

  std::shared_ptr<HealableModel> model;
  if (source == "builtin-mlp") {
    auto created = HealableModel::CreateMlp(features, seed, width);
    if (!created.ok()) return created.status();
    model = *created;
    REFLEX_RETURN_IF_ERROR(LoadFrozenParts(*model, Join(dir, "mlp.pt")));
    auto v0_bytes = ReadWholeFile(Join(dir, "adapter0.rfx"));
    if (!v0_bytes.ok()) return v0_bytes.status();
    auto v0 = DecodeVersionRecord(*v0_bytes, Join(dir, "adapter0.rfx"));
    if (!v0.ok()) return v0.status();
    if (!(v0->adapter.dims == model->adapter_dims()) || v0->adapter.version != 0) {
      return Status::InvalidArgument(Join(dir, "adapter0.rfx") + ": not version 0 of an adapter of this model's dims");
    }
    model->parts().initial = v0->adapter;
  } else if (source == "torchscript") {
    if (ts_manifest.empty()) return Status::InvalidArgument(manifest_path + ": source torchscript needs torchscript_manifest");
    auto loaded = HealableModel::LoadTorchScript((fs::path(dir) / ts_manifest).string());
    if (!loaded.ok()) return loaded.status();
    model = *loaded;
  } else {
    return Status::InvalidArgument(manifest_path + ": source '" + source + "' is not builtin-mlp or torchscript");
  }
  if (!fingerprint.empty() && Hex(model->FrozenFingerprint()) != fingerprint) {
    return Status::Corruption(dir + ": the loaded backbone and head have fingerprint " + Hex(model->FrozenFingerprint()) +
                              " but manifest.json says " + fingerprint + " (wrong or damaged model file)");
  }

  if (model->spec().feature_names != features) {
    return Status::InvalidArgument(manifest_path + ": feature_names differ from the model's (" + model->spec().source + ")");
  }
  if (classes.empty()) classes = DefaultClasses(*model);
  if (classes.size() != ClassCount(*model)) {
    return Status::InvalidArgument(manifest_path + ": " + std::to_string(classes.size()) + " classes listed, but the model's head has " +
                                   std::to_string(ClassCount(*model)));
  }
  if (label_column.empty()) return Status::InvalidArgument(manifest_path + ": label_column is empty");
  auto clean = ReadClassCsv(Join(dir, "clean.csv"), ClassCsvSpec{features, label_column, classes});
  if (!clean.ok()) return clean.status();
  if (summary_rows && *summary_rows != clean->rows()) {
    return Status::Corruption(Join(dir, "clean.csv") + ": " + std::to_string(clean->rows()) + " rows, but manifest.json's clean_summary says " +
                              std::to_string(*summary_rows) + " (a damaged or replaced file)");
  }
  // Rules: the file the manifest names, none when it says null; bundles written before the field
  // existed have rules.txt when they have rules.
  if (!rules_named && fs::exists(Join(dir, "rules.txt"))) rules_file = "rules.txt";
  RuleSet rule_set;
  if (!rules_file.empty()) {
    auto rules_text = ReadWholeFile(Join(dir, rules_file));
    if (!rules_text.ok()) return rules_text.status().WithContext(manifest_path + " names the rules file " + rules_file);
    auto rules = RuleSet::Parse(*rules_text, features, Join(dir, rules_file),
                                model->num_classes() >= 2 ? classes : std::vector<std::string>{});
    if (!rules.ok()) return rules.status();
    rule_set = std::move(*rules);
  }

  ModelBundle bundle;
  bundle.dir = dir;
  bundle.label_column = label_column;
  bundle.classes = classes;
  bundle.rules = std::make_shared<const RuleSet>(std::move(rule_set));
  const BatchView view{clean->features.data(), clean->rows(), clean->dims()};
  auto calibration = Calibrate(*model, view, clean->labels.data(), bundle.rules.get());
  if (!calibration.ok()) return calibration.status().WithContext("calibrating on " + Join(dir, "clean.csv"));
  auto fidi = FidiMonitor::Calibrate(view.data, view.rows, view.cols, monitored, FidiConfig{});
  if (!fidi.ok()) return fidi.status().WithContext("FIDI calibration on " + Join(dir, "clean.csv"));
  bundle.fidi = fidi->calibration();
  bundle.monitored = bundle.fidi.monitored;
  bundle.calibration = std::make_shared<const HealCalibration>(std::move(*calibration));
  bundle.model = std::move(model);
  bundle.clean = std::make_shared<const LabeledData>(std::move(*clean));
  return bundle;
}

}  // namespace reflex
