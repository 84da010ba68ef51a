// Built-in synthetic scenarios of reflex-sim, and the data set a run streams.
//
//   seed           the original generator: 10 features, V14 (column 7) carries the signal;
//                  normal V14 ~ N(0,1) clean, N(-2.2,1) drifted; fraud V14 ~ N(-2.5,0.8);
//                  fraud rate 0.15; 5000 training rows; 25 batches of 100; rule V14 < -1.5.
//   recalibration  five features carry class signal; three of them are re-calibrated
//                  (x -> a x + b, the same for both classes), so the signal survives.
//   prior          the positive rate moves from 0.15 to 0.40; class-conditionals unchanged.
// Every built-in scenario also yields 5000 labelled drifted rows to train the oracle arm.
// Generation is deterministic in the seed. Plain values; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/csv.h"
#include "core/status.h"

namespace reflex::sim {

struct ScenarioData {
  std::string name;
  LabeledData train;                   // clean, labelled
  LabeledData stream;                  // in time order
  std::optional<LabeledData> oracle_train;  // labelled drifted rows (built-in scenarios only)
  std::string rules_text;              // may be empty
  std::vector<size_t> monitored;       // FIDI features; empty = all
  size_t batch_size = 100;
  // Per stream batch, 1 where it is drawn from the clean distribution (empty: not known). The
  // oracle arm scores those with the deployed model, which is the clean distribution's oracle,
  // and the rest with the model trained on drifted rows.
  std::vector<uint8_t> batch_is_clean;
  bool is_seed = false;                // print the original's figures and the Bayes frontier
};

Result<ScenarioData> MakeScenario(const std::string& name, uint64_t seed);

}  // namespace reflex::sim
