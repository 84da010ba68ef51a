// EngineScorer: the bridge from the scoring server (transport/scorer.h) to a replica's
// ServingEngine (model/serving_engine.h).
//
// It answers Unavailable (the server replies kNotReady) until the replica holds the fleet's
// version (SetReady), then scores each batch with one engine snapshot and records the model
// call's latency. Thread-safe: Score() runs on every scoring worker at once; SetReady() comes
// from the weight subscriber's thread. Shares the engine; the metrics registry must outlive it.
#pragma once

#include <atomic>
#include <memory>

#include "actors/metrics.h"
#include "model/serving_engine.h"
#include "transport/scorer.h"

namespace reflex::actors {

class EngineScorer : public transport::Scorer {
 public:
  EngineScorer(std::shared_ptr<ServingEngine> engine, ReplicaMetrics metrics)
      : engine_(std::move(engine)), metrics_(metrics) {}

  uint32_t cols() const override { return static_cast<uint32_t>(engine_->model().input_dims()); }
  Result<uint64_t> Score(const float* rows, size_t n_rows, float* probs) override;

  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

 private:
  std::shared_ptr<ServingEngine> engine_;
  ReplicaMetrics metrics_;
  std::atomic<bool> ready_{false};
};

}  // namespace reflex::actors
