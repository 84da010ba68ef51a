// The version registry: every adapter version with why it exists and how it performed, plus
// which version is active. It is what rollback chooses from and what a restarted coordinator
// reloads.
//
// A registry is either persisted to a folder (Open) or in memory only (InMemory: tests and the
// single-process simulator). In a folder, each version is one file
// "v<version, 20 digits zero-padded>.rfx" and the active version number is the file "ACTIVE".
// Every write goes through WriteFileAtomically (tmp file, write, fsync, rename, fsync folder).
// Open loads every version file it can; a torn or corrupt file is skipped and described in
// *load_problems, and the rest still load. Leftover "*.tmp" files from a crash are removed.
//
// The bytes of the files are described in core/version_file.h. The file "EPOCH" holds the last
// coordinator epoch taken (TakeNextEpoch), so that epochs never go backwards.
//
// Open refuses (FailedPrecondition or Corruption, naming the file and the way out) a folder
// whose EPOCH or ACTIVE is missing, unreadable or damaged, or whose ACTIVE names a version that
// did not load, while version files exist: starting anyway could silently put the fleet on the
// wrong version or on an epoch every replica has already fenced. A fresh folder (no version
// files) is fine. With `repair` set, Open starts anyway: the epoch becomes the highest of EPOCH
// (when readable) and every loaded version's epoch, the active version the highest loaded one,
// each reported in *load_problems; the coordinator then learns the fleet's epoch (replicas
// report theirs) and moves above it.
// The file "OPERATOR" holds the operators' decisions (core/operator_state.h); a damaged one is
// refused like ACTIVE (repair: defaults, reported), a missing one means none were made.
// Anything in the folder that is not a regular file (a FIFO, a device, a symlink to one) or is
// larger than kMaxRegistryFileBytes is never read: it is skipped and reported.
//
// Ownership: the registry owns its records; a Get() pointer stays valid for the registry's
// lifetime (UpdateMetrics changes that record in place). Thread-safety: none; the owner
// (the coordinator actor) serialises access. One registry object per folder at a time.
// Units: created_unix_ms is milliseconds since the Unix epoch; metrics are fractions/ratios.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/adapter_version.h"
#include "core/operator_state.h"
#include "core/status.h"
#include "core/version_file.h"

namespace reflex {

class VersionRegistry {
 public:
  // Opens (creating if needed) the folder `dir`. IoError when the folder cannot be created or
  // listed; per-file problems go to *load_problems (may be nullptr), one line each naming the
  // file and why.
  static Result<std::unique_ptr<VersionRegistry>> Open(const std::string& dir,
                                                       std::vector<std::string>* load_problems,
                                                       bool repair = false);
  // Version, ACTIVE and EPOCH files larger than this are skipped (bytes).
  static constexpr uint64_t kMaxRegistryFileBytes = uint64_t{256} << 20;
  // In-memory only (no folder): for tests and the single-process simulator.
  static std::unique_ptr<VersionRegistry> InMemory();

  VersionRegistry(const VersionRegistry&) = delete;
  VersionRegistry& operator=(const VersionRegistry&) = delete;

  // Adds a version. FailedPrecondition if the version already exists; the adapter's Verify()
  // status if it fails; IoError if it cannot be persisted (then nothing changes). In a folder,
  // the first Put also writes ACTIVE (naming that version) when none was ever written, and EPOCH
  // is raised to the record's epoch when below it, so a folder holding versions always has both.
  Status Put(const VersionRecord& record);
  // Merges `metrics` into the version's metrics (new values win) and re-persists it.
  // NotFound if absent; IoError if it cannot be persisted (then nothing changes).
  Status UpdateMetrics(uint64_t version, const std::map<std::string, double>& metrics);

  const VersionRecord* Get(uint64_t version) const;  // nullptr if absent
  std::vector<uint64_t> Versions() const;           // ascending
  uint64_t LatestVersion() const;                   // highest version; 0 if empty
  bool empty() const;
  size_t size() const;

  // NotFound if absent; IoError if ACTIVE cannot be persisted (then active() is unchanged).
  Status SetActive(uint64_t version);
  uint64_t active() const;  // 0 until set

  // The last epoch taken (0 for a fresh registry).
  uint64_t epoch() const { return epoch_; }
  // Takes the epoch max(epoch(), above) + 1 and persists it before returning it, so no later
  // Open can see a lower one. FailedPrecondition when that would exceed kMaxEpoch; IoError when
  // EPOCH cannot be written (then epoch() is unchanged).
  Result<uint64_t> TakeNextEpoch(uint64_t above = 0);

  // The operators' decisions as last saved (defaults when never saved).
  const OperatorState& operator_state() const { return operator_state_; }
  // Persists `state` atomically as OPERATOR (in memory: only kept). IoError when it cannot be
  // written (then operator_state() is unchanged).
  Status SaveOperatorState(const OperatorState& state);

  // Rollback target: the version >= 1 with the highest finite value of `metric` (ties go to the
  // newest). NotFound if no such version has the metric.
  Result<uint64_t> BestPostHeal(const std::string& metric) const;

  // "" for an in-memory registry.
  const std::string& dir() const { return dir_; }
  // "v00000000000000000042.rfx" for version 42.
  static std::string VersionFileName(uint64_t version);
  // dir()/VersionFileName(version), whether or not the version exists; "" in memory.
  std::string VersionFilePath(uint64_t version) const;
  // dir()/ACTIVE; "" in memory.
  std::string ActiveFilePath() const;
  // dir()/EPOCH; "" in memory.
  std::string EpochFilePath() const;

 private:
  explicit VersionRegistry(std::string dir) : dir_(std::move(dir)) {}

  bool persistent() const { return !dir_.empty(); }
  Status Persist(const VersionRecord& record) const;
  Status LoadActive(bool repair, std::vector<std::string>* load_problems);
  Status LoadEpoch(bool repair, std::vector<std::string>* load_problems);
  Status LoadOperatorState(bool repair, std::vector<std::string>* load_problems);

  std::string dir_;  // empty: in memory only
  std::map<uint64_t, VersionRecord> records_;
  uint64_t active_ = 0;
  uint64_t epoch_ = 0;
  OperatorState operator_state_;
  bool active_on_disk_ = false;  // ACTIVE was loaded or written
  bool epoch_on_disk_ = false;   // EPOCH was loaded or written
};

}  // namespace reflex
