// The image drift zoo (`reflex-sim --zoo --images`): the image experiment (image_experiment.h)
// once per corruption (corruptions.h; every one but "none" by default) and severity (3 and 5),
// reduced to one row of stream accuracies per run, printed as one table with the accuracy gap
// closed, (arm - frozen) / (oracle - frozen), of healed_label_free, healed_labels and
// entropy_only ("–" where oracle - frozen < kMinOracleGain), the mean gap closed per arm, and
// the runs where an arm ends more than 0.01 below frozen in accuracy. With --out, image_zoo.json.
//
// Every run reuses the cached backbone; each corruption and severity trains (and caches) its own
// oracle, which dominates the first run's time (use train_limit / epochs to make it small).
// Runs on the calling thread; `log`, when set, gets a line per run and the experiment's own
// progress. Deterministic in the options. Accuracies are fractions in [0, 1].
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "image_experiment.h"

namespace reflex::sim {

struct ImageZooOptions {
  ImageExperimentOptions base;           // data, limits, epochs, cache, seed, label budget, policy
  std::vector<std::string> corruptions;  // empty: every corruption but "none"
  std::vector<int> severities{3, 5};
};

struct ImageZooRow {
  std::string corruption;
  int severity = 0;
  double frozen = 0, label_free = 0, labels = 0, entropy_only = 0, oracle = 0;  // accuracy over the stream
  std::optional<double> gap_label_free, gap_labels, gap_entropy_only;          // accuracy gap closed
  int heals_label_free = 0, heals_labels = 0, rollbacks_label_free = 0, rollbacks_labels = 0;
};

// InvalidArgument for an unknown corruption or a severity outside 1..5; an experiment's failure
// with the corruption named.
Result<std::vector<ImageZooRow>> RunImageZoo(const ImageZooOptions& options);

void PrintImageZoo(std::ostream& out, const ImageZooOptions& options, const std::vector<ImageZooRow>& rows);

// {"dataset", "label_fraction", "label_delay", "rows": [...], "summary": {arm: {mean_gap_closed,
// n, below_frozen}}}; keys sorted; ends with a newline.
std::string ImageZooJson(const ImageZooOptions& options, const std::vector<ImageZooRow>& rows);

// Creates `dir` when missing and writes image_zoo.json atomically. IoError naming the path.
Status WriteImageZooJson(const std::string& dir, const ImageZooOptions& options, const std::vector<ImageZooRow>& rows);

}  // namespace reflex::sim
