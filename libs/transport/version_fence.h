// VersionFence: which adapter versions a weight-bus subscriber may apply, and why it drops the
// others. Pure logic, no sockets, so the rules are testable on their own.
//
// Integrity first (a garbled frame's version and epoch cannot be trusted), in this order:
//   kWrongDims   a dim is zero, the weight count does not match the dims, or the dims differ
//                from the subscriber's configured dims;
//   kNonFinite   a weight is NaN or infinite;
//   kCorrupt     the checksum does not match the contents (AdapterVersion::Verify).
// Then order. Versions are ordered by (epoch, version), lexicographically:
//   kStaleEpoch  the candidate's epoch is below the highest coordinator epoch seen (from applied
//                versions and from heartbeats): it comes from a fenced, older coordinator;
//   kDuplicate   same (epoch, version) as the applied one (a re-send or a snapshot overlap);
//   kStaleVersion older than the applied one (reordered or late).
// So a candidate is applied iff it is intact and (epoch > applied.epoch) or (epoch ==
// applied.epoch and version > applied.version). A new coordinator epoch wins even over higher
// version numbers of an older epoch: fencing, not numbering, decides between coordinators.
// (Coordinators continue version numbers from the registry, so numbers normally rise too.)
//
// Ownership: a value owned by one thread (the subscriber's); not synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/adapter_version.h"

namespace reflex::transport {

enum class DropReason {
  kMalformed = 0,  // frame did not decode, wrong topic or message type (counted by the caller)
  kWrongDims,
  kNonFinite,
  kCorrupt,
  kStaleEpoch,
  kDuplicate,
  kStaleVersion,
};
constexpr size_t kDropReasonCount = 7;
const char* DropReasonName(DropReason reason);  // "wrong_dims", "stale_epoch", ...

class VersionFence {
 public:
  explicit VersionFence(std::optional<AdapterDims> expected_dims = std::nullopt)
      : expected_dims_(expected_dims) {}

  // nullopt when `candidate` may be applied; otherwise the reason, with `why` (when non-null)
  // saying what was wrong ("adapter version 4: weight 3 is NaN").
  std::optional<DropReason> Check(const AdapterVersion& candidate, std::string* why) const;

  // Records that `applied` is now served. Check() must have accepted it.
  void Applied(const AdapterVersion& applied);

  // Raises the highest epoch seen (a heartbeat). Returns false, changing nothing, when `epoch`
  // is below it (the heartbeat comes from a fenced coordinator).
  bool ObserveEpoch(uint64_t epoch);

  // True when (epoch, version) is newer than the applied version and not fenced: a heartbeat
  // advertising it means this subscriber is behind.
  bool IsNewer(uint64_t epoch, uint64_t version) const;

  bool has_applied() const { return has_applied_; }
  uint64_t applied_epoch() const { return applied_epoch_; }
  uint64_t applied_version() const { return applied_version_; }
  uint64_t highest_epoch() const { return highest_epoch_; }

 private:
  std::optional<AdapterDims> expected_dims_;
  bool has_applied_ = false;
  uint64_t applied_epoch_ = 0;
  uint64_t applied_version_ = 0;
  uint64_t highest_epoch_ = 0;
};

}  // namespace reflex::transport
