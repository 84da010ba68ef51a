#include "services/common/json_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace reflex::services {
namespace {

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::mutex& LogMutex() {
  static std::mutex mu;
  return mu;
}

std::string MessageOf(const std::string& event, const nlohmann::json& fields) {
  for (const char* key : {"msg", "detail", "error"}) {
    if (fields.is_object() && fields.contains(key) && fields[key].is_string()) return fields[key].get<std::string>();
  }
  std::string words = event;
  for (char& ch : words) {
    if (ch == '_') ch = ' ';
  }
  return words;
}

}  // namespace

std::string LevelOf(const std::string& event) {
  auto has = [&](const char* word) { return event.find(word) != std::string::npos; };
  if (event == "start_failed" || has("fatal")) return "error";
  for (const char* word : {"fail", "error", "refused", "lost", "problem", "fenced", "dropped", "rejected", "stale",
                           "timeout", "timed_out", "warning", "insecure", "abandon"}) {
    if (has(word)) return "warning";
  }
  return "info";
}

actors::EventLog MakeJsonLog(const std::string& service, const std::string& id) {
  return [service, id](const std::string& event, const nlohmann::json& fields) {
    nlohmann::json line = {{"ts", Timestamp()}, {"level", LevelOf(event)}, {"service", service}, {"id", id},
                           {"event", event}, {"msg", MessageOf(event, fields)}};
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
    }
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> lock(LogMutex());
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  };
}

}  // namespace reflex::services
