// Reading IDX image/label files from disk, gzipped or not (the gzip magic decides), with zlib.
// The parsing itself is core/idx.h. Errors name the file and what is wrong (missing, not gzip
// data after a gzip magic, truncated, header/size mismatch, image and label counts differ).
// Plain functions; no shared state.
#pragma once

#include <string>
#include <vector>

#include "core/idx.h"
#include "core/status.h"

namespace reflex::sim {

// The file's bytes, decompressed when they start with the gzip magic (1f 8b).
Result<std::vector<uint8_t>> ReadMaybeGzipped(const std::string& path);
Result<IdxArray> ReadIdxFile(const std::string& path);

struct IdxDataset {
  IdxImages images;
  std::vector<uint8_t> labels;  // one per image
  int num_classes = 0;          // max label + 1
};

// Images and labels must have the same count; at most `limit` images are kept (0 = all).
Result<IdxDataset> ReadIdxDataset(const std::string& images_path, const std::string& labels_path, size_t limit = 0);

}  // namespace reflex::sim
