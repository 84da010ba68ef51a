// Trained image CNNs for reflex-sim, cached on disk: the first run trains a network with
// LibTorch (through libs/model) and saves its frozen parts under
//   <cache_dir>/<dataset>-<what>-<16 hex digits>.pt
// where the hex digits hash the architecture, the training pixels and labels and every training
// setting, so a different data set, corruption or setting never reuses a wrong file. Later runs
// load it. Plain functions; a cache folder shared by concurrent runs may see a file written twice
// (the write is atomic, so readers never see half a file).
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "idx_files.h"
#include "model/healable_model.h"

namespace reflex::sim {

struct CnnCacheSettings {
  std::string dataset;          // file name prefix, e.g. "fashion-mnist"
  std::string cache_dir;        // created when missing
  int epochs = 4;               // Adam 0.002 decaying to 0 on a cosine, batch 128
  std::ostream* log = nullptr;  // "[cache] ..." and "[train] ..." lines; may be null
};

// A CreateImageCnn model for `data`'s image size and classes, trained on `pixels` (data's
// images, possibly corrupted) with data.labels, or loaded from the cache. `what` names it in the
// file name and the log ("backbone", "oracle-shift-s5").
Result<std::shared_ptr<HealableModel>> TrainedCnn(const CnnCacheSettings& settings, const IdxDataset& data,
                                                  const std::vector<float>& pixels, const std::string& what,
                                                  uint64_t seed);

}  // namespace reflex::sim
