// EngineScorer: the bridge from the scoring server (transport/scorer.h) to a replica's
// ServingEngine (model/serving_engine.h).
//
// It answers Unavailable (the server replies kNotReady) until the replica holds the fleet's
// version (SetReady), then scores each batch with one engine snapshot (one version for every row)
// and records the model call's latency. A binary model writes one P(positive) per row, a K-class
// model K class probabilities per row (HealableModel::outputs_per_row()). The schema names the
// model's features; classes are named by their ids ("0" .. "K-1"; a binary model has "0", "1").
// Thread-safe: Score() runs on every scoring worker at once; SetReady() comes from the weight
// subscriber's thread. Shares the engine; the metrics registry must outlive it.
#pragma once

#include <atomic>
#include <memory>

#include "actors/metrics.h"
#include "model/serving_engine.h"
#include "transport/scorer.h"

namespace reflex::actors {

class EngineScorer : public transport::Scorer {
 public:
  EngineScorer(std::shared_ptr<ServingEngine> engine, ReplicaMetrics metrics);

  uint32_t cols() const override { return static_cast<uint32_t>(engine_->model().input_dims()); }
  uint32_t outputs_per_row() const override {
    return static_cast<uint32_t>(engine_->model().outputs_per_row());
  }
  transport::ModelSchema schema() const override { return schema_; }
  transport::ServedVersion served() const override;
  Result<uint64_t> Score(const float* rows, size_t n_rows, float* out) override;

  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

 private:
  std::shared_ptr<ServingEngine> engine_;
  ReplicaMetrics metrics_;
  transport::ModelSchema schema_;
  std::atomic<bool> ready_{false};
};

}  // namespace reflex::actors
