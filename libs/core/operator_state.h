// OperatorState: what operators decided that must outlive a coordinator restart: the heal mode
// (and the mode a freeze interrupted), a pinned version, the policy keys set with policy-set,
// the next heal job id, and the heal job in flight (so a restart can report it as interrupted).
// The registry persists it as the file "OPERATOR" (core/registry.h), written atomically.
//
// File format (text, one "key=value" per line, values without newlines):
//   RFXO 1
//   mode=manual                      (absent: the configured mode)
//   mode_before_freeze=auto
//   pinned=3                         (absent: nothing pinned)
//   next_job_id=12
//   policy.<key>=<value>             (one per policy-set key)
//   heal.job_id=11, heal.parent=2, heal.started_unix_ms=..., heal.trigger=..., heal.healer=...
//   checksum=<Fnv1a64 of every line before it, 16 hex digits>
// Plain values and functions; safe from any thread. Units: unix ms.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"

namespace reflex {

struct InterruptedHeal {
  uint64_t job_id = 0;
  uint64_t parent = 0;           // the version it was healing from
  int64_t started_unix_ms = 0;
  std::string trigger;           // why it started
  std::string healer;            // who had it ("" while none was free)
};

struct OperatorState {
  std::optional<std::string> mode;                // HealModeName text
  std::string mode_before_freeze = "auto";
  std::optional<uint64_t> pinned;
  uint64_t next_job_id = 1;
  std::map<std::string, std::string> policy;      // policy-set keys and values, in force
  std::optional<InterruptedHeal> heal;            // the job in flight when last written
  bool operator==(const OperatorState& o) const;
};

std::string EncodeOperatorState(const OperatorState& state);
// Corruption naming `source` and the line when the header, a line, a number or the checksum is
// wrong.
Result<OperatorState> DecodeOperatorState(const std::string& bytes, const std::string& source);

}  // namespace reflex
