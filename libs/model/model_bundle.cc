#include "model/model_bundle.h"

#include <torch/serialize.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
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

std::string Join(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

}  // namespace

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
  m["frozen_fingerprint"] = Hex(model.FrozenFingerprint());
  return WriteFileAtomically(Join(dir, "manifest.json"), m.dump(2) + "\n");
}

Result<ModelBundle> LoadModelBundle(const std::string& dir) {
  const std::string manifest_path = Join(dir, "manifest.json");
  auto text = ReadWholeFile(manifest_path);
  if (!text.ok()) return text.status().WithContext("loading the model bundle");
  std::vector<std::string> features;
  std::string source, fingerprint, ts_manifest;
  uint32_t width = 0;
  uint64_t seed = 0;
  std::vector<size_t> monitored;
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

  auto clean = ReadLabeledCsv(Join(dir, "clean.csv"), kLabelColumn, features);
  if (!clean.ok()) return clean.status();
  auto rules_text = ReadWholeFile(Join(dir, "rules.txt"));
  if (!rules_text.ok()) return rules_text.status();
  auto rules = RuleSet::Parse(*rules_text, features, Join(dir, "rules.txt"));
  if (!rules.ok()) return rules.status();

  ModelBundle bundle;
  bundle.dir = dir;
  bundle.rules = std::make_shared<const RuleSet>(std::move(*rules));
  const BatchView view{clean->features.data(), clean->rows(), clean->dims()};
  auto calibration = Calibrate(*model, view, clean->labels.data(), bundle.rules.get());
  if (!calibration.ok()) return calibration.status().WithContext("calibrating on " + Join(dir, "clean.csv"));
  auto fidi = FidiMonitor::Calibrate(view.data, view.rows, view.cols, monitored, FidiConfig{});
  if (!fidi.ok()) return fidi.status().WithContext("FIDI calibration on " + Join(dir, "clean.csv"));
  bundle.fidi = fidi->calibration();
  bundle.monitored = bundle.fidi.monitored;
  bundle.calibration = std::make_shared<const HealCalibration>(std::move(*calibration));
  bundle.model = std::move(model);
  return bundle;
}

}  // namespace reflex
