#include "reflex-sim/idx_files.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace reflex::sim {

Result<std::vector<uint8_t>> ReadMaybeGzipped(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open the file");
  std::vector<uint8_t> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.size() < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal(path + ": zlib inflateInit2 failed");
  std::vector<uint8_t> out;
  uint8_t chunk[1 << 16];
  zs.next_in = raw.data();
  zs.avail_in = static_cast<uInt>(raw.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string why = zs.msg ? zs.msg : (rc == Z_BUF_ERROR ? "truncated gzip data" : "zlib error " + std::to_string(rc));
      inflateEnd(&zs);
      return Status::InvalidArgument(path + ": gzip data is damaged: " + why);
    }
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
  }
  inflateEnd(&zs);
  return out;
}

Result<IdxArray> ReadIdxFile(const std::string& path) {
  auto bytes = ReadMaybeGzipped(path);
  if (!bytes.ok()) return bytes.status();
  return ParseIdx(bytes->data(), bytes->size(), path);
}

Result<IdxDataset> ReadIdxDataset(const std::string& images_path, const std::string& labels_path, size_t limit) {
  auto img_array = ReadIdxFile(images_path);
  if (!img_array.ok()) return img_array.status();
  auto images = IdxToImages(*img_array, images_path);
  if (!images.ok()) return images.status();
  auto lab_array = ReadIdxFile(labels_path);
  if (!lab_array.ok()) return lab_array.status();
  auto labels = IdxToLabels(*lab_array, labels_path);
  if (!labels.ok()) return labels.status();
  if (labels->size() != images->count) {
    return Status::InvalidArgument(labels_path + ": " + std::to_string(labels->size()) + " labels for the " +
                                   std::to_string(images->count) + " images of " + images_path);
  }
  IdxDataset d;
  d.images = std::move(*images);
  d.labels = std::move(*labels);
  if (limit > 0 && limit < d.images.count) {
    d.images.count = limit;
    d.images.pixels.resize(limit * d.images.pixels_per_image());
    d.labels.resize(limit);
  }
  const uint8_t max_label = *std::max_element(d.labels.begin(), d.labels.end());
  if (max_label >= 100) return Status::InvalidArgument(labels_path + ": label " + std::to_string(max_label) + " is too large (at most 99 classes)");
  d.num_classes = max_label + 1;
  return d;
}

}  // namespace reflex::sim
