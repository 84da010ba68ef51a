// The image benchmark of reflex-sim: a small CNN trained once on clean IDX images (cached), a
// stream of test images corrupted by one corruption (corruptions.h), scored prequentially in
// batches by five arms side by side:
//   frozen             never heals
//   healed_labels      labels of batch b arrive at b + label_delay for a label_fraction of rows
//   healed_label_free  never sees a stream label (closed-form alignment + information maximisation)
//   entropy_only       a Tent-style baseline: only the entropy term, on the adapter, no gate
//   oracle             the same network trained on corrupted training images (cached too)
// All healed arms share the frozen backbone: each batch runs it once (HealableModel::Embed) and
// heals learn from the backbone outputs of the most recent window_rows rows. Drift is FIDI on
// the backbone outputs (units alive on clean data) and scattered image centroids. Each healed
// arm's decisions (heal on the rows since the onset, roll back, return to version 0 when drift
// ends) come from the heal controller the cluster runs (control/heal_controller.h); the labelled
// arm's controller also sees what it and version 0 did on the delivered labels. The labelled arm's policy is
// LabelledImagePolicy(policy) and its job also holds up to max_labelled_rows older labelled rows.
// Optional class rules (rules_path, image_classes.h): their conflicts with the frozen model's
// class (per batch, over rows) are a drift signal above conflict_threshold, and the healed arms
// with w_rule > 0 get the rules and the rows' pixels in their jobs (weak class labels).
// Deterministic in the seed (single-threaded heals; training uses the threads it is given).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/heal_policy.h"
#include "sim_result.h"

namespace reflex::sim {

struct ImageExperimentOptions {
  std::string dataset = "fashion-mnist";  // name shown in the results and cache files
  std::string train_images, train_labels, stream_images, stream_labels;  // IDX, gzipped or not
  std::string corruption = "none";
  int severity = 5;
  uint64_t seed = 1;
  size_t batch_size = 100;
  int label_delay = 5;           // batches
  double label_fraction = 0.05;  // of each batch's rows
  size_t train_limit = 0;        // first N training images (0 = all)
  size_t stream_limit = 0;       // first N stream images (0 = all)
  int epochs = 4;                // backbone (and oracle) training passes
  bool oracle = true;
  std::string cache_dir;         // trained networks are cached here (created when missing)
  int threads = 2;               // LibTorch intra-op threads for training (the stream runs on one)
  size_t max_labelled_rows = 2000;  // labelled arm: most recent labelled rows kept beyond the window
  HealPolicy policy;             // label-free arm; the labelled arm starts from LabelledImagePolicy(policy)
  std::vector<std::string> label_policy_overrides;  // KEY=VALUE, applied to the labelled arm's policy last
  std::vector<std::string> class_names;  // empty: the data set's (image_classes.h)
  std::string rules_path;        // optional class rules over px0..: weak labels and a conflict drift signal
  std::ostream* log = nullptr;   // progress lines (training, cache hits, timings); may be null
};

// The heal policy image runs start from: window 1000 rows, heal every 5 batches, closed-form
// alignment (image intensity, then backbone output) distilled with 100 Adam steps at 0.01 plus
// entropy (0.1) and diversity (1.0) terms; class rules (if any) weigh 0.5.
HealPolicy DefaultImagePolicy();

// The labelled arm's policy derived from the label-free one: with labels the heal can afford to
// be aggressive (see the .cc for the values and why).
HealPolicy LabelledImagePolicy(const HealPolicy& label_free);

Result<SimResult> RunImageExperiment(const ImageExperimentOptions& options);

}  // namespace reflex::sim
