#include "scenario_bundle.h"

#include <filesystem>

#include "model/healable_model.h"
#include "model/model_bundle.h"
#include "model/trainer.h"
#include "scenarios.h"

namespace reflex::sim {
namespace {

LabeledData Head(const LabeledData& d, size_t rows) {
  LabeledData out;
  out.feature_names = d.feature_names;
  rows = std::min(rows, d.rows());
  out.features.assign(d.features.begin(), d.features.begin() + static_cast<ptrdiff_t>(rows * d.dims()));
  out.labels.assign(d.labels.begin(), d.labels.begin() + static_cast<ptrdiff_t>(rows));
  return out;
}

}  // namespace

Status WriteTrainedBundle(const ScenarioData& data, uint64_t seed, const std::string& model_dir) {
  auto model = HealableModel::CreateMlp(data.train.feature_names, seed);
  if (!model.ok()) return model.status();
  TrainConfig train;
  train.seed = seed;
  const BatchView view{data.train.features.data(), data.train.rows(), data.train.dims()};
  REFLEX_RETURN_IF_ERROR(TrainMlp(**model, view, data.train.labels.data(), train).WithContext("training the deployed model"));
  return WriteModelBundle(model_dir, **model, seed, data.train, data.rules_text, data.monitored);
}

Result<ScenarioStreams> BuildScenarioBundle(const std::string& scenario, uint64_t seed, const std::string& model_dir,
                                            size_t clean_rows, size_t holdout_rows) {
  auto data = MakeScenario(scenario, seed);
  if (!data.ok()) return data.status();
  // An independent draw of the same scenario: its clean rows were never trained on.
  auto fresh = MakeScenario(scenario, seed + 7777);
  if (!fresh.ok()) return fresh.status();

  REFLEX_RETURN_IF_ERROR(WriteTrainedBundle(*data, seed, model_dir));

  ScenarioStreams s;
  s.clean = Head(fresh->train, clean_rows);
  s.drift = data->stream;
  s.holdout = Head(*data->oracle_train, holdout_rows);
  return s;
}

Status WriteScenarioFiles(const std::string& scenario, uint64_t seed, const std::string& out_dir) {
  namespace fs = std::filesystem;
  auto streams = BuildScenarioBundle(scenario, seed, (fs::path(out_dir) / "model").string());
  if (!streams.ok()) return streams.status();
  REFLEX_RETURN_IF_ERROR(WriteLabeledCsv((fs::path(out_dir) / "clean.csv").string(), streams->clean, "label"));
  REFLEX_RETURN_IF_ERROR(WriteLabeledCsv((fs::path(out_dir) / "drift.csv").string(), streams->drift, "label"));
  return WriteLabeledCsv((fs::path(out_dir) / "holdout.csv").string(), streams->holdout, "label");
}

}  // namespace reflex::sim
