#include "transport/version_fence.h"

#include <algorithm>
#include <cmath>

namespace reflex::transport {
namespace {

std::string Where(const AdapterVersion& adapter) {
  return "adapter version " + std::to_string(adapter.version) + " (epoch " +
         std::to_string(adapter.epoch) + ")";
}

std::string DimsText(AdapterDims dims) {
  return std::to_string(dims.width) + "x" + std::to_string(dims.hidden);
}

}  // namespace

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kMalformed: return "malformed";
    case DropReason::kWrongDims: return "wrong_dims";
    case DropReason::kNonFinite: return "non_finite";
    case DropReason::kCorrupt: return "corrupt";
    case DropReason::kStaleEpoch: return "stale_epoch";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kStaleVersion: return "stale_version";
  }
  return "unknown";
}

std::optional<DropReason> VersionFence::Check(const AdapterVersion& candidate,
                                              std::string* why) const {
  auto drop = [why](DropReason reason, std::string text) {
    if (why != nullptr) *why = std::move(text);
    return std::optional<DropReason>(reason);
  };
  const AdapterDims dims = candidate.dims;
  if (dims.width == 0 || dims.hidden == 0 ||
      candidate.weights.size() != AdapterWeightCount(dims)) {
    return drop(DropReason::kWrongDims,
                Where(candidate) + ": " + std::to_string(candidate.weights.size()) +
                    " weights do not fit dims " + DimsText(dims));
  }
  if (expected_dims_ && dims != *expected_dims_) {
    return drop(DropReason::kWrongDims, Where(candidate) + ": dims " + DimsText(dims) +
                                            ", this subscriber serves " +
                                            DimsText(*expected_dims_));
  }
  for (size_t i = 0; i < candidate.weights.size(); ++i) {
    if (!std::isfinite(candidate.weights[i])) {
      return drop(DropReason::kNonFinite, Where(candidate) + ": weight " + std::to_string(i) +
                                              " is " +
                                              (std::isnan(candidate.weights[i]) ? "NaN" : "infinite"));
    }
  }
  const Status verified = candidate.Verify();
  if (!verified.ok()) return drop(DropReason::kCorrupt, verified.message());

  if (candidate.epoch < highest_epoch_) {
    return drop(DropReason::kStaleEpoch, Where(candidate) + ": epoch is older than epoch " +
                                             std::to_string(highest_epoch_) + " (fenced)");
  }
  if (has_applied_) {
    if (candidate.epoch == applied_epoch_ && candidate.version == applied_version_) {
      return drop(DropReason::kDuplicate, Where(candidate) + ": already applied");
    }
    if (!IsNewer(candidate.epoch, candidate.version)) {
      return drop(DropReason::kStaleVersion,
                  Where(candidate) + ": older than applied version " +
                      std::to_string(applied_version_) + " (epoch " +
                      std::to_string(applied_epoch_) + ")");
    }
  }
  return std::nullopt;
}

void VersionFence::Applied(const AdapterVersion& applied) {
  has_applied_ = true;
  applied_epoch_ = applied.epoch;
  applied_version_ = applied.version;
  highest_epoch_ = std::max(highest_epoch_, applied.epoch);
}

bool VersionFence::ObserveEpoch(uint64_t epoch) {
  if (epoch < highest_epoch_) return false;
  highest_epoch_ = epoch;
  return true;
}

bool VersionFence::IsNewer(uint64_t epoch, uint64_t version) const {
  if (epoch < highest_epoch_) return false;
  if (!has_applied_) return true;
  return epoch > applied_epoch_ || (epoch == applied_epoch_ && version > applied_version_);
}

}  // namespace reflex::transport
