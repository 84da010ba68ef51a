// ServiceConfig: a service's settings from three layers, later ones winning:
//   1. the defaults compiled into the service (its schema: section, key, typed default),
//   2. the TOML file given with --config (configs/*.toml are the documented defaults),
//   3. --set SECTION.KEY=VALUE flags.
// Keys of a closed section must be in the schema and have its type (an integer is accepted
// where a float is expected); an open section (the coordinator's [policy]) takes any key, to be
// validated by its owner (HealPolicy::Set). Errors say where: "replica.toml:12:1: unknown key
// 'sumary_rows' in [replica]" or "--set replica.summary_rows=abc: not an integer". An integer
// outside its range is refused naming the key, the value and the range:
// "[replica] probe_port = 70000 is outside the allowed range 0..65535".
//
// A plain value once loaded; safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace reflex::services {

using ConfigValue = std::variant<int64_t, double, bool, std::string>;

// An allowed range for an integer key, inclusive.
struct IntRange {
  int64_t min = 0, max = 0;
};

struct ConfigKey {
  std::string section;
  std::string key;
  ConfigValue default_value;
  // Integer keys are range-checked after loading: with this range when set, else (outside open
  // sections) by name
  // (DefaultRange): "*_port" 0..65535, "*_ms" 1..86400000, "*_rows" 1..100000000,
  // "scoring_workers" / "max_concurrent" 1..256, "window_summaries" / "healer_misses" 1..10000.
  std::optional<IntRange> range = std::nullopt;
};

// The range a key gets by its name; nullopt for names without a rule.
std::optional<IntRange> DefaultRange(const std::string& key);

struct ConfigSchema {
  std::vector<ConfigKey> keys;
  // Sections that accept any key (values kept as given), with defaults for some of their keys.
  std::set<std::string> open_sections;
};

class ServiceConfig {
 public:
  // path may be empty (defaults and --set only).
  static Result<ServiceConfig> Load(const ConfigSchema& schema, const std::string& path,
                                    const std::vector<std::string>& sets);

  int64_t Int(const std::string& section, const std::string& key) const;
  double Double(const std::string& section, const std::string& key) const;
  bool Bool(const std::string& section, const std::string& key) const;
  std::string String(const std::string& section, const std::string& key) const;
  // Every key of a section as text (for open sections).
  std::map<std::string, std::string> SectionText(const std::string& section) const;
  // {"section": {"key": value, ...}, ...}: what --print-config prints.
  nlohmann::json ToJson() const;

 private:
  const ConfigValue& Get(const std::string& section, const std::string& key) const;
  std::map<std::string, std::map<std::string, ConfigValue>> values_;
};

// "tcp://0.0.0.0:7500" -> "0.0.0.0"; "127.0.0.1:9400" -> "127.0.0.1".
std::string HostOf(const std::string& address);
// "127.0.0.1:9400" -> 9400; 0 when there is none or it is not a number in 0..65535.
uint16_t PortOf(const std::string& address);

}  // namespace reflex::services
