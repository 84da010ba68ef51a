#include "actors/engine_scorer.h"

#include <chrono>
#include <cstring>

namespace reflex::actors {

Result<uint64_t> EngineScorer::Score(const float* rows, size_t n_rows, float* probs) {
  if (!ready_.load()) {
    return Status::Unavailable("this replica does not hold the fleet's adapter version yet");
  }
  const auto start = std::chrono::steady_clock::now();
  auto scored = engine_->Score(BatchView{rows, n_rows, cols()});
  if (!scored.ok()) return scored.status();
  std::memcpy(probs, scored->probs.data(), n_rows * sizeof(float));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  metrics_.score_latency_ms->Observe(ms);
  metrics_.rows_scored->Increment(static_cast<double>(n_rows));
  return scored->version;
}

}  // namespace reflex::actors
