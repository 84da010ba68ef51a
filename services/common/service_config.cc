#include "services/common/service_config.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include <toml++/toml.h>

namespace reflex::services {
namespace {

std::string Where(const std::string& path, const toml::source_region& src) {
  return path + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

std::string TypeName(const ConfigValue& v) {
  switch (v.index()) {
    case 0: return "an integer";
    case 1: return "a number";
    case 2: return "true or false";
    default: return "a string";
  }
}

// Converts a TOML value to the schema's type (int -> float allowed).
bool FromToml(const toml::node& node, const ConfigValue& like, ConfigValue* out) {
  switch (like.index()) {
    case 0:
      if (auto v = node.value_exact<int64_t>()) { *out = *v; return true; }
      return false;
    case 1:
      if (auto v = node.value_exact<double>()) { *out = *v; return true; }
      if (auto v = node.value_exact<int64_t>()) { *out = static_cast<double>(*v); return true; }
      return false;
    case 2:
      if (auto v = node.value_exact<bool>()) { *out = *v; return true; }
      return false;
    default:
      if (auto v = node.value_exact<std::string>()) { *out = *v; return true; }
      return false;
  }
}

// An open-section value as given: numbers and booleans keep their type.
bool FromTomlAny(const toml::node& node, ConfigValue* out) {
  if (auto v = node.value_exact<int64_t>()) *out = *v;
  else if (auto v = node.value_exact<double>()) *out = *v;
  else if (auto v = node.value_exact<bool>()) *out = *v;
  else if (auto v = node.value_exact<std::string>()) *out = *v;
  else return false;
  return true;
}

bool FromText(const std::string& text, const ConfigValue& like, ConfigValue* out) {
  char* end = nullptr;
  switch (like.index()) {
    case 0: {
      if (text.empty()) return false;
      errno = 0;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (*end || errno == ERANGE) return false;
      *out = static_cast<int64_t>(v);
      return true;
    }
    case 1: {
      if (text.empty()) return false;
      errno = 0;
      const double v = std::strtod(text.c_str(), &end);
      if (*end || errno == ERANGE) return false;
      *out = v;
      return true;
    }
    case 2:
      if (text == "true") *out = true;
      else if (text == "false") *out = false;
      else return false;
      return true;
    default: *out = text; return true;
  }
}

ConfigValue GuessFromText(const std::string& text) {
  ConfigValue v;
  if (FromText(text, ConfigValue(int64_t{0}), &v)) return v;
  if (FromText(text, ConfigValue(0.0), &v)) return v;
  if (FromText(text, ConfigValue(false), &v)) return v;
  return text;
}

std::string ToText(const ConfigValue& v) {
  switch (v.index()) {
    case 0: return std::to_string(std::get<int64_t>(v));
    case 1: {
      std::ostringstream out;
      out.precision(17);
      out << std::get<double>(v);
      return out.str();
    }
    case 2: return std::get<bool>(v) ? "true" : "false";
    default: return std::get<std::string>(v);
  }
}

}  // namespace

Result<ServiceConfig> ServiceConfig::Load(const ConfigSchema& schema, const std::string& path,
                                          const std::vector<std::string>& sets) {
  ServiceConfig config;
  std::map<std::string, std::map<std::string, ConfigValue>> types;
  for (const ConfigKey& k : schema.keys) {
    config.values_[k.section][k.key] = k.default_value;
    types[k.section][k.key] = k.default_value;
  }
  auto is_open = [&](const std::string& section) { return schema.open_sections.count(section) > 0; };

  if (!path.empty()) {
    toml::table file;
    try {
      file = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument(Where(path, e.source()) + ": " + std::string(e.description()));
    } catch (const std::exception& e) {
      return Status::IoError(path + ": cannot read the configuration: " + e.what());
    }
    for (auto&& [section_key, section_node] : file) {
      const std::string section(section_key.str());
      const toml::table* table = section_node.as_table();
      if (!table) {
        return Status::InvalidArgument(Where(path, section_node.source()) + ": '" + section +
                                       "' must be a [section] (a table)");
      }
      if (!types.count(section) && !is_open(section)) {
        std::string known;
        for (const auto& [s, _] : types) known += (known.empty() ? "" : ", ") + s;
        return Status::InvalidArgument(Where(path, section_node.source()) + ": unknown section [" + section +
                                       "] (known: " + known + ")");
      }
      for (auto&& [key_node, value] : *table) {
        const std::string key(key_node.str());
        ConfigValue parsed;
        if (is_open(section)) {
          if (!FromTomlAny(value, &parsed)) {
            return Status::InvalidArgument(Where(path, value.source()) + ": " + section + "." + key +
                                           " must be a number, true/false or a string");
          }
        } else {
          auto it = types[section].find(key);
          if (it == types[section].end()) {
            return Status::InvalidArgument(Where(path, key_node.source()) + ": unknown key '" + key + "' in [" + section + "]");
          }
          if (!FromToml(value, it->second, &parsed)) {
            return Status::InvalidArgument(Where(path, value.source()) + ": " + section + "." + key + " must be " +
                                           TypeName(it->second));
          }
        }
        config.values_[section][key] = parsed;
      }
    }
  }

  for (const std::string& set : sets) {
    const size_t eq = set.find('=');
    const size_t dot = set.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
      return Status::InvalidArgument("--set " + set + ": expected SECTION.KEY=VALUE");
    }
    const std::string section = set.substr(0, dot), key = set.substr(dot + 1, eq - dot - 1), text = set.substr(eq + 1);
    ConfigValue parsed;
    if (is_open(section)) {
      parsed = GuessFromText(text);
    } else {
      auto sec = types.find(section);
      if (sec == types.end() || !sec->second.count(key)) {
        return Status::InvalidArgument("--set " + set + ": unknown key '" + section + "." + key + "'");
      }
      if (!FromText(text, sec->second.at(key), &parsed)) {
        return Status::InvalidArgument("--set " + set + ": '" + text + "' is not " + TypeName(sec->second.at(key)));
      }
    }
    config.values_[section][key] = parsed;
  }
  for (const ConfigKey& k : schema.keys) {
    if (!std::holds_alternative<int64_t>(k.default_value)) continue;
    // Open sections ([policy]) are validated by their owner (HealPolicy), which knows its ranges.
    const std::optional<IntRange> range = k.range ? k.range : is_open(k.section) ? std::nullopt : DefaultRange(k.key);
    if (!range) continue;
    const int64_t value = config.Int(k.section, k.key);
    if (value < range->min || value > range->max) {
      return Status::InvalidArgument("[" + k.section + "] " + k.key + " = " + std::to_string(value) +
                                     " is outside the allowed range " + std::to_string(range->min) + ".." +
                                     std::to_string(range->max));
    }
  }
  return config;
}

std::optional<IntRange> DefaultRange(const std::string& key) {
  auto ends = [&](const std::string& suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("_port")) return IntRange{0, 65535};
  if (ends("_ms")) return IntRange{1, 86400000};
  if (ends("_rows")) return IntRange{1, 100000000};
  if (key == "scoring_workers" || key == "max_concurrent") return IntRange{1, 256};
  if (key == "window_summaries" || key == "healer_misses") return IntRange{1, 10000};
  return std::nullopt;
}

const ConfigValue& ServiceConfig::Get(const std::string& section, const std::string& key) const {
  static const ConfigValue kMissing = std::string();
  auto s = values_.find(section);
  if (s == values_.end()) return kMissing;
  auto k = s->second.find(key);
  return k == s->second.end() ? kMissing : k->second;
}

int64_t ServiceConfig::Int(const std::string& s, const std::string& k) const {
  const ConfigValue& v = Get(s, k);
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return 0;
}
double ServiceConfig::Double(const std::string& s, const std::string& k) const {
  const ConfigValue& v = Get(s, k);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return 0;
}
bool ServiceConfig::Bool(const std::string& s, const std::string& k) const {
  const ConfigValue& v = Get(s, k);
  auto* b = std::get_if<bool>(&v);
  return b && *b;
}
std::string ServiceConfig::String(const std::string& s, const std::string& k) const { return ToText(Get(s, k)); }

std::map<std::string, std::string> ServiceConfig::SectionText(const std::string& section) const {
  std::map<std::string, std::string> out;
  auto s = values_.find(section);
  if (s == values_.end()) return out;
  for (const auto& [k, v] : s->second) out[k] = ToText(v);
  return out;
}

nlohmann::json ServiceConfig::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [section, keys] : values_) {
    nlohmann::json& s = j[section];
    s = nlohmann::json::object();
    for (const auto& [k, v] : keys) std::visit([&](const auto& x) { s[k] = x; }, v);
  }
  return j;
}

std::string HostOf(const std::string& address) {
  std::string a = address;
  const size_t scheme = a.find("://");
  if (scheme != std::string::npos) a = a.substr(scheme + 3);
  const size_t colon = a.rfind(':');
  return colon == std::string::npos ? a : a.substr(0, colon);
}

uint16_t PortOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  char* end = nullptr;
  errno = 0;
  const unsigned long port = std::strtoul(address.c_str() + colon + 1, &end, 10);
  if (end == address.c_str() + colon + 1 || *end || errno == ERANGE || port > 65535) return 0;
  return static_cast<uint16_t>(port);
}

}  // namespace reflex::services
