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
// The bytes of both files are described in core/version_file.h. A missing ACTIVE means "never
// set" (active 0); an unreadable or corrupt ACTIVE, or one naming a version that did not load,
// falls back to the highest loaded version and is reported in *load_problems.
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
#include "core/status.h"
#include "core/version_file.h"

namespace reflex {

class VersionRegistry {
 public:
  // Opens (creating if needed) the folder `dir`. IoError when the folder cannot be created or
  // listed; per-file problems go to *load_problems (may be nullptr), one line each naming the
  // file and why.
  static Result<std::unique_ptr<VersionRegistry>> Open(const std::string& dir,
                                                       std::vector<std::string>* load_problems);
  // In-memory only (no folder): for tests and the single-process simulator.
  static std::unique_ptr<VersionRegistry> InMemory();

  VersionRegistry(const VersionRegistry&) = delete;
  VersionRegistry& operator=(const VersionRegistry&) = delete;

  // Adds a version. FailedPrecondition if the version already exists; the adapter's Verify()
  // status if it fails; IoError if it cannot be persisted (then nothing changes).
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

 private:
  explicit VersionRegistry(std::string dir) : dir_(std::move(dir)) {}

  bool persistent() const { return !dir_.empty(); }
  Status Persist(const VersionRecord& record) const;
  void LoadActive(std::vector<std::string>* load_problems);

  std::string dir_;  // empty: in memory only
  std::map<uint64_t, VersionRecord> records_;
  uint64_t active_ = 0;
};

}  // namespace reflex
