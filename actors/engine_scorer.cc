#include "actors/engine_scorer.h"

#include <chrono>
#include <string>

namespace reflex::actors {

EngineScorer::EngineScorer(std::shared_ptr<ServingEngine> engine, ReplicaMetrics metrics)
    : engine_(std::move(engine)), metrics_(metrics) {
  const HealableModel& model = engine_->model();
  schema_.feature_names = model.spec().feature_names;
  const size_t classes = model.outputs_per_row() == 1 ? 2 : model.outputs_per_row();
  for (size_t c = 0; c < classes; ++c) schema_.class_names.push_back(std::to_string(c));
}

transport::ServedVersion EngineScorer::served() const {
  const auto current = engine_->Current();
  return {ready_.load(), current->adapter.version, current->adapter.epoch};
}

Result<uint64_t> EngineScorer::Score(const float* rows, size_t n_rows, float* out) {
  if (!ready_.load()) {
    return Status::Unavailable("this replica does not hold the fleet's adapter version yet");
  }
  const auto start = std::chrono::steady_clock::now();
  // One snapshot pinned for the whole call: every row is scored by the same version. The model
  // writes n_rows * outputs_per_row() floats straight into `out`.
  const auto snapshot = engine_->Current();
  const Status scored = engine_->model().Score(*snapshot->compiled, BatchView{rows, n_rows, cols()}, out);
  if (!scored.ok()) return scored;
  metrics_.score_latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  metrics_.rows_scored->Increment(static_cast<double>(n_rows));
  return snapshot->adapter.version;
}

}  // namespace reflex::actors
