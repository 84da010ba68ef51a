#include "core/operator_state.h"

#include <cstdio>
#include <sstream>
#include <vector>

#include "core/checksum.h"

namespace reflex {
namespace {

constexpr char kHeader[] = "RFXO 1";

std::string OneLine(std::string value) {
  for (char& c : value) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return value;
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool ParseU64(const std::string& text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

bool OperatorState::operator==(const OperatorState& o) const {
  auto heal_eq = [](const std::optional<InterruptedHeal>& a, const std::optional<InterruptedHeal>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a) return true;
    return a->job_id == b->job_id && a->parent == b->parent && a->started_unix_ms == b->started_unix_ms &&
           a->trigger == b->trigger && a->healer == b->healer;
  };
  return mode == o.mode && mode_before_freeze == o.mode_before_freeze && pinned == o.pinned &&
         next_job_id == o.next_job_id && policy == o.policy && heal_eq(heal, o.heal);
}

std::string EncodeOperatorState(const OperatorState& s) {
  std::string out = std::string(kHeader) + "\n";
  auto line = [&](const std::string& key, const std::string& value) { out += key + "=" + OneLine(value) + "\n"; };
  if (s.mode) line("mode", *s.mode);
  line("mode_before_freeze", s.mode_before_freeze);
  if (s.pinned) line("pinned", std::to_string(*s.pinned));
  line("next_job_id", std::to_string(s.next_job_id));
  for (const auto& [k, v] : s.policy) line("policy." + OneLine(k), v);
  if (s.heal) {
    line("heal.job_id", std::to_string(s.heal->job_id));
    line("heal.parent", std::to_string(s.heal->parent));
    line("heal.started_unix_ms", std::to_string(s.heal->started_unix_ms));
    line("heal.trigger", s.heal->trigger);
    line("heal.healer", s.heal->healer);
  }
  out += "checksum=" + Hex(Fnv1a64(out.data(), out.size())) + "\n";
  return out;
}

Result<OperatorState> DecodeOperatorState(const std::string& bytes, const std::string& source) {
  const size_t at = bytes.rfind("checksum=");
  if (bytes.rfind(std::string(kHeader) + "\n", 0) != 0 || at == std::string::npos) {
    return Status::Corruption(source + ": not an operator state file (no '" + kHeader + "' header or no checksum line)");
  }
  std::string stored = bytes.substr(at + 9);
  if (!stored.empty() && stored.back() == '\n') stored.pop_back();
  if (stored != Hex(Fnv1a64(bytes.data(), at))) {
    return Status::Corruption(source + ": checksum mismatch (torn write or edited by hand)");
  }
  OperatorState s;
  std::istringstream in(bytes.substr(0, at));
  std::string text;
  std::getline(in, text);  // header
  size_t line_no = 1;
  while (std::getline(in, text)) {
    ++line_no;
    const size_t eq = text.find('=');
    auto bad = [&](const std::string& why) {
      return Status::Corruption(source + ": line " + std::to_string(line_no) + " '" + text.substr(0, 60) + "': " + why);
    };
    if (eq == std::string::npos) return bad("expected key=value");
    const std::string key = text.substr(0, eq), value = text.substr(eq + 1);
    uint64_t n = 0;
    const bool numeric = ParseU64(value, &n);
    auto heal = [&]() -> InterruptedHeal& {
      if (!s.heal) s.heal.emplace();
      return *s.heal;
    };
    if (key == "mode") {
      s.mode = value;
    } else if (key == "mode_before_freeze") {
      s.mode_before_freeze = value;
    } else if (key.rfind("policy.", 0) == 0) {
      s.policy[key.substr(7)] = value;
    } else if (key == "heal.trigger") {
      heal().trigger = value;
    } else if (key == "heal.healer") {
      heal().healer = value;
    } else if (!numeric) {
      return bad("unknown key, or not a number");
    } else if (key == "pinned") {
      s.pinned = n;
    } else if (key == "next_job_id") {
      s.next_job_id = n;
    } else if (key == "heal.job_id") {
      heal().job_id = n;
    } else if (key == "heal.parent") {
      heal().parent = n;
    } else if (key == "heal.started_unix_ms") {
      heal().started_unix_ms = static_cast<int64_t>(n);
    } else {
      return bad("unknown key");
    }
  }
  return s;
}

}  // namespace reflex
