#include "core/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core/atomic_file.h"

namespace reflex {

namespace {

constexpr char kActiveFileName[] = "ACTIVE";
constexpr size_t kVersionDigits = 20;

// Parses "v<20 digits>.rfx"; false for any other name.
bool ParseVersionFileName(const std::string& name, uint64_t* version) {
  if (name.size() != 1 + kVersionDigits + 4 || name[0] != 'v' ||
      name.compare(1 + kVersionDigits, 4, ".rfx") != 0) {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = 1; i <= kVersionDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *version = value;
  return true;
}

void Report(std::vector<std::string>* problems, std::string line) {
  if (problems != nullptr) problems->push_back(std::move(line));
}

}  // namespace

Result<std::unique_ptr<VersionRegistry>> VersionRegistry::Open(
    const std::string& dir, std::vector<std::string>* load_problems) {
  if (dir.empty()) return Status::InvalidArgument("registry folder name is empty");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::IoError("cannot create registry folder " + dir + ": " + error.message());
  }
  std::unique_ptr<VersionRegistry> registry(new VersionRegistry(dir));
  std::vector<std::filesystem::path> entries;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    entries.push_back(it->path());
  }
  if (error) {
    return Status::IoError("cannot list registry folder " + dir + ": " + error.message());
  }
  std::sort(entries.begin(), entries.end());  // deterministic order of load_problems
  for (const std::filesystem::path& path : entries) {
    const std::string name = path.filename().string();
    if (IsTemporaryFileName(name)) {
      // Left over from a write interrupted before its rename: the write never completed.
      std::filesystem::remove(path, error);
      if (error) {
        Report(load_problems, "cannot remove leftover temporary file " + path.string() + ": " +
                                  error.message());
      }
      continue;
    }
    uint64_t version = 0;
    if (!ParseVersionFileName(name, &version)) continue;  // ACTIVE or unrelated files
    const std::string file = path.string();
    Result<std::string> bytes = ReadWholeFile(file);
    if (!bytes.ok()) {
      Report(load_problems, bytes.status().message() + "; file skipped");
      continue;
    }
    Result<VersionRecord> record = DecodeVersionRecord(*bytes, file);
    if (!record.ok()) {
      Report(load_problems, record.status().message() + "; file skipped");
      continue;
    }
    if (record->adapter.version != version) {
      Report(load_problems, file + ": holds version " + std::to_string(record->adapter.version) +
                                ", not the version in its name; file skipped");
      continue;
    }
    Status verified = record->adapter.Verify();
    if (!verified.ok()) {
      Report(load_problems, file + ": " + verified.message() + "; file skipped");
      continue;
    }
    registry->records_.emplace(version, std::move(record).value());
  }
  registry->LoadActive(load_problems);
  return registry;
}

void VersionRegistry::LoadActive(std::vector<std::string>* load_problems) {
  active_ = 0;
  Result<std::string> bytes = ReadWholeFile(ActiveFilePath());
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return;  // never set
  std::string problem;
  if (!bytes.ok()) {
    problem = bytes.status().message();
  } else {
    Result<uint64_t> version = DecodeActiveFile(*bytes, ActiveFilePath());
    if (!version.ok()) {
      problem = version.status().message();
    } else if (records_.count(*version) == 0) {
      problem = ActiveFilePath() + ": names version " + std::to_string(*version) +
                ", which did not load";
    } else {
      active_ = *version;
      return;
    }
  }
  active_ = LatestVersion();
  Report(load_problems, problem + "; using the highest loaded version " +
                            std::to_string(active_) + " as active");
}

std::unique_ptr<VersionRegistry> VersionRegistry::InMemory() {
  return std::unique_ptr<VersionRegistry>(new VersionRegistry(""));
}

Status VersionRegistry::Persist(const VersionRecord& record) const {
  if (!persistent()) return Status::Ok();
  return WriteFileAtomically(VersionFilePath(record.adapter.version),
                             EncodeVersionRecord(record))
      .WithContext("registry: persisting version " + std::to_string(record.adapter.version));
}

Status VersionRegistry::Put(const VersionRecord& record) {
  const uint64_t version = record.adapter.version;
  if (records_.count(version) != 0) {
    return Status::FailedPrecondition("registry: version " + std::to_string(version) +
                                      " already exists; versions are immutable");
  }
  REFLEX_RETURN_IF_ERROR(record.adapter.Verify().WithContext("registry: refusing Put"));
  REFLEX_RETURN_IF_ERROR(Persist(record));
  records_.emplace(version, record);
  return Status::Ok();
}

Status VersionRegistry::UpdateMetrics(uint64_t version,
                                      const std::map<std::string, double>& metrics) {
  auto it = records_.find(version);
  if (it == records_.end()) {
    return Status::NotFound("registry: cannot update metrics of version " +
                            std::to_string(version) + ": not in the registry");
  }
  VersionRecord updated = it->second;
  for (const auto& [name, value] : metrics) updated.metrics[name] = value;
  REFLEX_RETURN_IF_ERROR(Persist(updated));
  it->second = std::move(updated);
  return Status::Ok();
}

const VersionRecord* VersionRegistry::Get(uint64_t version) const {
  auto it = records_.find(version);
  return it == records_.end() ? nullptr : &it->second;
}

std::vector<uint64_t> VersionRegistry::Versions() const {
  std::vector<uint64_t> versions;
  versions.reserve(records_.size());
  for (const auto& entry : records_) versions.push_back(entry.first);
  return versions;
}

uint64_t VersionRegistry::LatestVersion() const {
  return records_.empty() ? 0 : records_.rbegin()->first;
}

bool VersionRegistry::empty() const { return records_.empty(); }
size_t VersionRegistry::size() const { return records_.size(); }

Status VersionRegistry::SetActive(uint64_t version) {
  if (records_.count(version) == 0) {
    return Status::NotFound("registry: cannot activate version " + std::to_string(version) +
                            ": not in the registry");
  }
  if (persistent()) {
    REFLEX_RETURN_IF_ERROR(WriteFileAtomically(ActiveFilePath(), EncodeActiveFile(version))
                               .WithContext("registry: activating version " +
                                            std::to_string(version)));
  }
  active_ = version;
  return Status::Ok();
}

uint64_t VersionRegistry::active() const { return active_; }

Result<uint64_t> VersionRegistry::BestPostHeal(const std::string& metric) const {
  bool found = false;
  uint64_t best_version = 0;
  double best_value = 0;
  for (const auto& [version, record] : records_) {  // ascending, so ">=" prefers the newest
    if (version == 0) continue;
    auto it = record.metrics.find(metric);
    if (it == record.metrics.end() || !std::isfinite(it->second)) continue;
    if (!found || it->second >= best_value) {
      found = true;
      best_version = version;
      best_value = it->second;
    }
  }
  if (!found) {
    return Status::NotFound("registry: no healed version (>= 1) has a finite '" + metric + "'");
  }
  return best_version;
}

std::string VersionRegistry::VersionFileName(uint64_t version) {
  char name[32];
  std::snprintf(name, sizeof(name), "v%020llu.rfx", static_cast<unsigned long long>(version));
  return name;
}

std::string VersionRegistry::VersionFilePath(uint64_t version) const {
  if (!persistent()) return "";
  return (std::filesystem::path(dir_) / VersionFileName(version)).string();
}

std::string VersionRegistry::ActiveFilePath() const {
  if (!persistent()) return "";
  return (std::filesystem::path(dir_) / kActiveFileName).string();
}

}  // namespace reflex
