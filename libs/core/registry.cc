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
constexpr char kEpochFileName[] = "EPOCH";
constexpr char kOperatorFileName[] = "OPERATOR";
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

const char* FileKind(std::filesystem::file_type type) {
  switch (type) {
    case std::filesystem::file_type::directory: return "a folder";
    case std::filesystem::file_type::fifo: return "a FIFO";
    case std::filesystem::file_type::socket: return "a socket";
    case std::filesystem::file_type::character: return "a character device";
    case std::filesystem::file_type::block: return "a block device";
    default: return "not a regular file";
  }
}

// The whole file, but only when it is a regular file (a symlink is followed) of at most
// `max_bytes`: a FIFO would block the read forever and /dev/zero never ends. NotFound when
// absent; FailedPrecondition naming the file and why otherwise.
Result<std::string> ReadRegularFile(const std::string& file, uint64_t max_bytes) {
  std::error_code error;
  const std::filesystem::file_status st = std::filesystem::status(file, error);
  if (st.type() == std::filesystem::file_type::not_found) {
    return Status::NotFound(file + ": does not exist");
  }
  if (error) return Status::IoError(file + ": " + error.message());
  if (st.type() != std::filesystem::file_type::regular) {
    return Status::FailedPrecondition(file + ": is " + std::string(FileKind(st.type())) +
                                      ", not a regular file; not read");
  }
  const uintmax_t size = std::filesystem::file_size(file, error);
  if (error) return Status::IoError(file + ": " + error.message());
  if (size > max_bytes) {
    return Status::FailedPrecondition(file + ": " + std::to_string(size) + " bytes, over the limit of " +
                                      std::to_string(max_bytes) + "; not read");
  }
  return ReadWholeFile(file);
}

}  // namespace

Result<std::unique_ptr<VersionRegistry>> VersionRegistry::Open(
    const std::string& dir, std::vector<std::string>* load_problems, bool repair) {
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
    Result<std::string> bytes = ReadRegularFile(file, kMaxRegistryFileBytes);
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
  REFLEX_RETURN_IF_ERROR(registry->LoadActive(repair, load_problems));
  REFLEX_RETURN_IF_ERROR(registry->LoadEpoch(repair, load_problems));
  REFLEX_RETURN_IF_ERROR(registry->LoadOperatorState(repair, load_problems));
  return registry;
}

Status VersionRegistry::LoadActive(bool repair, std::vector<std::string>* load_problems) {
  active_ = 0;
  Result<std::string> bytes = ReadRegularFile(ActiveFilePath(), 1024);
  const bool missing = !bytes.ok() && bytes.status().code() == StatusCode::kNotFound;
  // Never set: a fresh folder, or a first start that stopped between writing v0 and ACTIVE.
  if (missing && LatestVersion() == 0) return Status::Ok();
  std::string problem;
  if (missing) {
    problem = ActiveFilePath() + ": missing, but versions up to " + std::to_string(LatestVersion()) + " exist";
  } else if (!bytes.ok()) {
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
      active_on_disk_ = true;
      return Status::Ok();
    }
  }
  if (!repair) {
    return Status::FailedPrecondition(
        "registry " + dir_ + ": " + problem +
        "; refusing to guess which version the fleet serves. Restore ACTIVE, or start once with "
        "registry repair on (coordinator.registry_repair = true) to take the highest loaded version (" +
        std::to_string(LatestVersion()) + ")");
  }
  active_ = LatestVersion();
  Report(load_problems, problem + "; repair: using the highest loaded version " +
                            std::to_string(active_) + " as active");
  return Status::Ok();
}

Status VersionRegistry::LoadEpoch(bool repair, std::vector<std::string>* load_problems) {
  epoch_ = 0;
  uint64_t recorded = 0;  // the highest epoch any loaded version was made in
  for (const auto& entry : records_) recorded = std::max(recorded, entry.second.adapter.epoch);
  Result<std::string> bytes = ReadRegularFile(EpochFilePath(), 64);
  const bool missing = !bytes.ok() && bytes.status().code() == StatusCode::kNotFound;
  if (missing && records_.empty()) return Status::Ok();  // a fresh folder
  std::string problem;
  if (missing) {
    problem = EpochFilePath() + ": missing, but " + std::to_string(records_.size()) + " versions exist";
  } else if (!bytes.ok()) {
    problem = bytes.status().message();
  } else {
    Result<uint64_t> epoch = DecodeEpochFile(*bytes, EpochFilePath());
    if (!epoch.ok()) {
      problem = epoch.status().message();
    } else if (*epoch < recorded) {
      problem = EpochFilePath() + ": epoch " + std::to_string(*epoch) + " is below epoch " +
                std::to_string(recorded) + " of a version it holds";
    } else {
      epoch_ = *epoch;
      epoch_on_disk_ = true;
      return Status::Ok();
    }
  }
  if (!repair) {
    return Status::FailedPrecondition(
        "registry " + dir_ + ": " + problem +
        "; refusing to start: a coordinator could take an epoch the fleet has already fenced. Restore "
        "EPOCH, or start once with registry repair on (coordinator.registry_repair = true) to start "
        "above epoch " + std::to_string(recorded) + " and learn the fleet's epoch from its replicas");
  }
  epoch_ = recorded;
  Report(load_problems, problem + "; repair: starting above epoch " + std::to_string(recorded) +
                            " (the highest in the loaded versions); replicas will report theirs");
  return Status::Ok();
}

Status VersionRegistry::LoadOperatorState(bool repair, std::vector<std::string>* load_problems) {
  const std::string path = (std::filesystem::path(dir_) / kOperatorFileName).string();
  Result<std::string> bytes = ReadRegularFile(path, 1 << 20);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) return Status::Ok();
  Result<OperatorState> state = bytes.ok() ? DecodeOperatorState(*bytes, path) : Result<OperatorState>(bytes.status());
  if (state.ok()) {
    operator_state_ = std::move(state).value();
    return Status::Ok();
  }
  if (!repair) {
    return Status::FailedPrecondition("registry " + dir_ + ": " + state.status().message() +
                                      "; refusing to start without the operators' mode, pin and policy. Restore "
                                      "OPERATOR, or start once with coordinator.registry_repair = true to use the "
                                      "configured defaults");
  }
  Report(load_problems, state.status().message() + "; repair: using the configured mode and policy, nothing pinned");
  return Status::Ok();
}

Status VersionRegistry::SaveOperatorState(const OperatorState& state) {
  if (persistent()) {
    REFLEX_RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(dir_) / kOperatorFileName).string(),
                                               EncodeOperatorState(state))
                               .WithContext("registry: saving the operator state"));
  }
  operator_state_ = state;
  return Status::Ok();
}

Result<uint64_t> VersionRegistry::TakeNextEpoch(uint64_t above) {
  const uint64_t base = std::max(epoch_, above);
  if (base >= kMaxEpoch) {
    return Status::FailedPrecondition("registry: cannot take an epoch above " + std::to_string(base) +
                                      ": the highest allowed is " + std::to_string(kMaxEpoch));
  }
  const uint64_t next = base + 1;
  if (persistent()) {
    REFLEX_RETURN_IF_ERROR(WriteFileAtomically(EpochFilePath(), EncodeEpochFile(next))
                               .WithContext("registry: taking epoch " + std::to_string(next)));
    epoch_on_disk_ = true;
  }
  epoch_ = next;
  return next;
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
  if (persistent() && (!epoch_on_disk_ || record.adapter.epoch > epoch_)) {
    const uint64_t epoch = std::max(epoch_, record.adapter.epoch);
    REFLEX_RETURN_IF_ERROR(WriteFileAtomically(EpochFilePath(), EncodeEpochFile(epoch))
                               .WithContext("registry: recording epoch " + std::to_string(epoch)));
    epoch_ = epoch;
    epoch_on_disk_ = true;
  }
  REFLEX_RETURN_IF_ERROR(Persist(record));
  records_.emplace(version, record);
  if (persistent() && !active_on_disk_) REFLEX_RETURN_IF_ERROR(SetActive(version));
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
    active_on_disk_ = true;
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

std::string VersionRegistry::EpochFilePath() const {
  if (!persistent()) return "";
  return (std::filesystem::path(dir_) / kEpochFileName).string();
}

}  // namespace reflex
