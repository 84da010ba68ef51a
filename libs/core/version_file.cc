#include "core/version_file.h"

#include "core/byte_coding.h"
#include "core/checksum.h"

namespace reflex {

namespace {

constexpr char kVersionMagic[4] = {'R', 'F', 'X', 'V'};
constexpr char kActiveMagic[4] = {'R', 'F', 'X', 'A'};
constexpr uint32_t kFormatVersion = 1;

void AppendTrailingChecksum(std::string* bytes) {
  AppendU64(bytes, Fnv1a64(bytes->data(), bytes->size()));
}

// Checks the magic, the trailing checksum and the format version; on success *body_size is the
// number of bytes before the trailing checksum.
Status CheckFrame(const std::string& bytes, const char (&magic)[4], const std::string& source,
                  size_t* body_size) {
  const size_t min_size = sizeof(magic) + 4 + 8;
  if (bytes.size() < min_size) {
    return Status::Corruption(source + ": file is " + std::to_string(bytes.size()) +
                              " bytes, shorter than the smallest valid file (" +
                              std::to_string(min_size) + ")");
  }
  if (bytes.compare(0, sizeof(magic), magic, sizeof(magic)) != 0) {
    return Status::Corruption(source + ": bad magic, expected \"" +
                              std::string(magic, sizeof(magic)) + "\"");
  }
  *body_size = bytes.size() - 8;
  ByteReader trailer(bytes.data() + *body_size, 8);
  uint64_t stored = 0;
  trailer.ReadU64(&stored);
  const uint64_t computed = Fnv1a64(bytes.data(), *body_size);
  if (stored != computed) {
    return Status::Corruption(source + ": file checksum mismatch: stored " +
                              FormatChecksum(stored) + ", computed " + FormatChecksum(computed) +
                              " (torn write or corrupted bytes)");
  }
  ByteReader header(bytes.data() + sizeof(magic), 4);
  uint32_t format_version = 0;
  header.ReadU32(&format_version);
  if (format_version != kFormatVersion) {
    return Status::Corruption(source + ": unsupported format version " +
                              std::to_string(format_version) + " (this build reads " +
                              std::to_string(kFormatVersion) + ")");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeVersionRecord(const VersionRecord& record) {
  const AdapterVersion& adapter = record.adapter;
  std::string bytes(kVersionMagic, sizeof(kVersionMagic));
  AppendU32(&bytes, kFormatVersion);
  AppendU64(&bytes, adapter.version);
  AppendU64(&bytes, adapter.parent);
  AppendU64(&bytes, adapter.epoch);
  AppendU32(&bytes, adapter.dims.width);
  AppendU32(&bytes, adapter.dims.hidden);
  AppendU64(&bytes, adapter.checksum);
  AppendU64(&bytes, adapter.weights.size());
  for (float weight : adapter.weights) AppendF32(&bytes, weight);
  AppendLengthPrefixed(&bytes, record.reason);
  AppendI64(&bytes, record.created_unix_ms);
  AppendU32(&bytes, static_cast<uint32_t>(record.metrics.size()));
  for (const auto& [name, value] : record.metrics) {
    AppendLengthPrefixed(&bytes, name);
    AppendF64(&bytes, value);
  }
  AppendTrailingChecksum(&bytes);
  return bytes;
}

Result<VersionRecord> DecodeVersionRecord(const std::string& bytes, const std::string& source) {
  size_t body_size = 0;
  REFLEX_RETURN_IF_ERROR(CheckFrame(bytes, kVersionMagic, source, &body_size));
  const size_t header_size = sizeof(kVersionMagic) + 4;
  ByteReader reader(bytes.data() + header_size, body_size - header_size);
  auto truncated = [&](const char* field) {
    return Status::Corruption(source + ": record ends inside field '" + field + "' at byte " +
                              std::to_string(header_size + reader.position()));
  };
  VersionRecord record;
  AdapterVersion& adapter = record.adapter;
  if (!reader.ReadU64(&adapter.version)) return truncated("version");
  if (!reader.ReadU64(&adapter.parent)) return truncated("parent");
  if (!reader.ReadU64(&adapter.epoch)) return truncated("epoch");
  if (!reader.ReadU32(&adapter.dims.width)) return truncated("width");
  if (!reader.ReadU32(&adapter.dims.hidden)) return truncated("hidden");
  if (!reader.ReadU64(&adapter.checksum)) return truncated("adapter_checksum");
  uint64_t weight_count = 0;
  if (!reader.ReadU64(&weight_count)) return truncated("weight_count");
  if (weight_count > reader.remaining() / 4) return truncated("weights");
  adapter.weights.resize(static_cast<size_t>(weight_count));
  if (!reader.ReadF32Array(adapter.weights.size(), adapter.weights.data())) {
    return truncated("weights");
  }
  if (!reader.ReadLengthPrefixed(&record.reason)) return truncated("reason");
  if (!reader.ReadI64(&record.created_unix_ms)) return truncated("created_unix_ms");
  uint32_t metric_count = 0;
  if (!reader.ReadU32(&metric_count)) return truncated("metric_count");
  for (uint32_t i = 0; i < metric_count; ++i) {
    std::string name;
    double value = 0;
    if (!reader.ReadLengthPrefixed(&name)) return truncated("metric name");
    if (!reader.ReadF64(&value)) return truncated("metric value");
    record.metrics[name] = value;
  }
  if (reader.remaining() != 0) {
    return Status::Corruption(source + ": " + std::to_string(reader.remaining()) +
                              " unexpected bytes after the last field");
  }
  return record;
}

std::string EncodeActiveFile(uint64_t version) {
  std::string bytes(kActiveMagic, sizeof(kActiveMagic));
  AppendU32(&bytes, kFormatVersion);
  AppendU64(&bytes, version);
  AppendTrailingChecksum(&bytes);
  return bytes;
}

Result<uint64_t> DecodeActiveFile(const std::string& bytes, const std::string& source) {
  size_t body_size = 0;
  REFLEX_RETURN_IF_ERROR(CheckFrame(bytes, kActiveMagic, source, &body_size));
  const size_t header_size = sizeof(kActiveMagic) + 4;
  if (body_size != header_size + 8) {
    return Status::Corruption(source + ": holds " + std::to_string(body_size - header_size) +
                              " bytes between header and checksum, expected 8");
  }
  ByteReader reader(bytes.data() + header_size, 8);
  uint64_t version = 0;
  reader.ReadU64(&version);
  return version;
}

std::string EncodeEpochFile(uint64_t epoch) { return std::to_string(epoch) + "\n"; }

Result<uint64_t> DecodeEpochFile(const std::string& bytes, const std::string& source) {
  std::string text = bytes;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  auto bad = [&](const std::string& why) {
    return Status::Corruption(source + ": '" + text.substr(0, 40) + "' is not an epoch: " + why);
  };
  if (text.empty()) return bad("the file is empty");
  if (text.size() > 20) return bad("too many characters");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad("only decimal digits are allowed (no sign, spaces or prefix)");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kMaxEpoch - digit) / 10) return bad("above the highest epoch " + std::to_string(kMaxEpoch));
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace reflex
