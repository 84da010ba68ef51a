#include "zoo_workers.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>

#include "model/compute_threads.h"
#include "zoo_report.h"

namespace reflex::sim {

namespace {

namespace fs = std::filesystem;

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

// A child's life: units from the shared counter until none is left, one JSON line each:
// {"unit": i, "row": {...}} or {"unit": i, "error": message, "code": StatusCode}. Returns the exit code.
int WorkerMain(const std::vector<ZooUnit>& units, const ZooOptions& options, std::atomic<size_t>* next, const fs::path& file) {
  SetComputeThreads(options.threads);
  std::ofstream out(file);
  for (size_t i = next->fetch_add(1); i < units.size(); i = next->fetch_add(1)) {
    auto row = RunZooUnit(units[i], options, i, units.size());
    nlohmann::json line = {{"unit", i}};
    if (row.ok()) {
      line["row"] = ZooRowToJson(*row);
    } else {
      line["error"] = row.status().message();
      line["code"] = static_cast<int>(row.status().code());
    }
    out << line.dump() << "\n" << std::flush;
    if (!row.ok()) {
      next->store(units.size());  // the others stop after their current unit
      return 1;
    }
  }
  return out.good() ? 0 : 1;
}

// Reads one worker's file into `rows` (by unit); the first error it reports goes to `error`.
Status ReadWorkerFile(const fs::path& file, std::vector<std::optional<ZooRow>>& rows, Status& error) {
  std::ifstream in(file);
  std::string text;
  while (std::getline(in, text)) {
    const nlohmann::json line = nlohmann::json::parse(text, nullptr, false);
    if (line.is_discarded() || !line.contains("unit")) return Status::Internal(file.string() + ": a malformed line");
    const size_t unit = line.at("unit").get<size_t>();
    if (unit >= rows.size()) return Status::Internal(file.string() + ": unit out of range");
    if (line.contains("error")) {
      if (error.ok()) error = Status(static_cast<StatusCode>(line.at("code").get<int>()), line.at("error").get<std::string>());
      continue;
    }
    auto row = ZooRowFromJson(line.at("row"));
    if (!row.ok()) return row.status();
    rows[unit] = *row;
  }
  return Status();
}

// Forks the workers; returns their pids (those started before a failed fork, and the failure).
Status StartWorkers(const std::vector<ZooUnit>& units, const ZooOptions& options, std::atomic<size_t>* next,
                    const fs::path& dir, size_t jobs, std::vector<pid_t>& pids) {
  std::cout.flush();
  std::cerr.flush();
  for (size_t w = 0; w < jobs; ++w) {
    const pid_t pid = ::fork();
    if (pid < 0) return Errno("fork");
    if (pid == 0) ::_exit(WorkerMain(units, options, next, dir / ("worker-" + std::to_string(w) + ".jsonl")));
    pids.push_back(pid);
  }
  return Status();
}

}  // namespace

Result<std::vector<ZooRow>> RunZooInWorkers(const std::vector<ZooUnit>& units, const ZooOptions& options) {
  void* shared = ::mmap(nullptr, sizeof(std::atomic<size_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return Errno("mmap");
  auto* next = new (shared) std::atomic<size_t>(0);
  std::string pattern = (fs::temp_directory_path() / "reflex-zoo-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ::munmap(shared, sizeof(std::atomic<size_t>));
    return Errno("mkdtemp");
  }
  const fs::path dir = pattern;
  const size_t jobs = std::min(units.size(), static_cast<size_t>(std::max(1, options.jobs)));
  std::vector<pid_t> pids;
  Status status = StartWorkers(units, options, next, dir, jobs, pids);
  bool crashed = false;
  for (pid_t pid : pids) {
    int code = 0;
    while (::waitpid(pid, &code, 0) < 0 && errno == EINTR) {
    }
    crashed = crashed || !WIFEXITED(code);
  }
  std::vector<std::optional<ZooRow>> rows(units.size());
  Status error;
  for (size_t w = 0; w < pids.size() && status.ok(); ++w) {
    status = ReadWorkerFile(dir / ("worker-" + std::to_string(w) + ".jsonl"), rows, error);
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  ::munmap(shared, sizeof(std::atomic<size_t>));
  if (!status.ok()) return status;
  if (!error.ok()) return error;
  std::vector<ZooRow> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i]) {
      return Status::Internal(std::string("a zoo worker ") + (crashed ? "crashed" : "stopped") + " before running " + units[i].family +
                              " seed " + std::to_string(units[i].seed) + " " + units[i].budget.Label());
    }
    out.push_back(std::move(*rows[i]));
  }
  return out;
}

}  // namespace reflex::sim
