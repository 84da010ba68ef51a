#include "reply_printer.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "table.h"

namespace reflex::reflexctl {
namespace {

using nlohmann::json;

// Serialises without throwing: invalid UTF-8 in a string is replaced, not an exception.
std::string Dump(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

// A JSON value as table text: "-" for missing or null, yes/no for booleans, numbers short.
std::string Text(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number_float()) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.4g", value.get<double>());
    return buffer;
  }
  if (value.is_string()) return value.get<std::string>().empty() ? "-" : value.get<std::string>();
  return Dump(value, -1);
}

// object[key], or null when `object` is not an object or has no such key.
const json& Field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string Text(const json& object, const char* key) { return Text(Field(object, key)); }

// Milliseconds as "850ms" or "12.3s".
std::string Age(const json& object, const char* key) {
  const json& value = Field(object, key);
  if (!value.is_number()) return Text(value);
  const double ms = value.get<double>();
  char buffer[32];
  if (ms < 10000) {
    std::snprintf(buffer, sizeof(buffer), "%.0fms", ms);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1fs", ms / 1000.0);
  }
  return buffer;
}

// Unix milliseconds as "2024-05-01T12:00:00Z" (UTC).
std::string Time(const json& object, const char* key) {
  const json& value = Field(object, key);
  if (!value.is_number()) return Text(value);
  const std::time_t seconds = static_cast<std::time_t>(value.get<double>() / 1000.0);
  std::tm utc{};
  if (!gmtime_r(&seconds, &utc)) return Text(value);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string FormatStatus(const json& body) {
  const json& drift = Field(body, "drift");
  std::string out = "epoch " + Text(body, "epoch") + "  version " + Text(body, "current_version") + "  mode " +
                    Text(body, "mode") + "  pinned " + Text(body, "pinned") + "  heal in flight " +
                    Text(body, "heal_in_flight") + "  drift " + Text(drift, "drift") + " (max z " +
                    Text(drift, "max_z") + " on " + Text(drift, "feature") + ", conflict rate " +
                    Text(drift, "conflict_rate") + ", rows " + Text(drift, "rows") + ")\n";

  const json& replicas = Field(body, "replicas");
  out += "\nreplicas:";
  if (replicas.is_array() && !replicas.empty()) {
    // READY: serving this coordinator's (epoch, version, checksum); FENCED: its weight-bus
    // fence is above this coordinator's epoch, so it ignores every update from it.
    Table table({"ID", "VERSION", "EPOCH", "READY", "FENCED", "ROWS", "SUMMARY_AGE", "ENDPOINT"});
    for (const json& r : replicas) {
      table.AddRow({Text(r, "id"), Text(r, "version"), Text(r, "epoch"), Text(r, "ready"), Text(r, "fenced"),
                    Text(r, "rows_scored"), Age(r, "summary_age_ms"), Text(r, "endpoint")});
    }
    out += "\n" + table.Render();
  } else {
    out += " none\n";
  }

  const json& healers = Field(body, "healers");
  out += "\nhealers:";
  if (healers.is_array() && !healers.empty()) {
    Table table({"ID", "DEVICE", "LOAD", "ALIVE", "HEARTBEAT_AGE"});
    for (const json& h : healers) {
      table.AddRow({Text(h, "id"), Text(h, "device"), Text(h, "load"), Text(h, "alive"), Age(h, "heartbeat_age_ms")});
    }
    out += "\n" + table.Render();
  } else {
    out += " none\n";
  }
  return out;
}

std::string FormatPolicy(const json& body) {
  const json& policy = Field(body, "policy");
  if (!policy.is_object()) return Dump(body, 2) + "\n";
  if (policy.empty()) return "(empty policy)\n";
  std::string out;
  // nlohmann::json keeps object keys sorted.
  for (auto it = policy.begin(); it != policy.end(); ++it) out += it.key() + " = " + Text(it.value()) + "\n";
  return out;
}

std::string FormatHeal(const json& body) {
  return "heal job " + Text(body, "job_id") + " sent to " + Text(body, "healer") + "\n";
}

std::string FormatVersionChange(const json& body) {
  std::string out = "serving version " + Text(body, "version");
  const json& weights_of = Field(body, "weights_of");
  if (!weights_of.is_null() && weights_of != Field(body, "version")) out += " (weights of version " + Text(weights_of) + ")";
  return out + "\n";
}

std::string FormatMode(const json& body) {
  return "mode " + Text(body, "mode") + "  pinned " + Text(body, "pinned") + "\n";
}

std::string Metrics(const json& metrics) {
  if (!metrics.is_object()) return Text(metrics);
  std::string out;
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    if (!out.empty()) out += ",";
    out += it.key() + "=" + Text(it.value());
  }
  return out.empty() ? "-" : out;
}

std::string FormatHistory(const json& body) {
  const json& versions = Field(body, "versions");
  if (!versions.is_array()) return Dump(body, 2) + "\n";
  if (versions.empty()) return "no versions\n";
  Table table({"VERSION", "PARENT", "EPOCH", "ACTIVE", "CREATED", "REASON", "METRICS"});
  for (const json& v : versions) {
    table.AddRow({Text(v, "version"), Text(v, "parent"), Text(v, "epoch"), Text(v, "active"),
                  Time(v, "created_unix_ms"), Text(v, "reason"), Metrics(Field(v, "metrics"))});
  }
  return table.Render();
}

}  // namespace

std::string FormatReply(const std::string& command, const std::string& body_json) {
  if (body_json.empty()) return command + ": done\n";
  json body = json::parse(body_json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return body_json + (body_json.back() == '\n' ? "" : "\n");
  if (!body.is_object()) return Dump(body, 2) + "\n";
  if (command == "status") return FormatStatus(body);
  if (command == "policy-get" || command == "policy-set") return FormatPolicy(body);
  if (command == "heal") return FormatHeal(body);
  if (command == "rollback" || command == "pin") return FormatVersionChange(body);
  if (command == "unpin" || command == "freeze" || command == "unfreeze") return FormatMode(body);
  if (command == "history") return FormatHistory(body);
  return Dump(body, 2) + "\n";
}

std::string OneLineJson(const std::string& body_json) {
  if (body_json.find_first_of("\r\n") == std::string::npos) return body_json;
  json body = json::parse(body_json, nullptr, /*allow_exceptions=*/false);
  if (!body.is_discarded()) return Dump(body, -1);
  std::string line = body_json;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace reflex::reflexctl
