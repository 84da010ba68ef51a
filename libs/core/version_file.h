// The on-disk bytes of the version registry: one file per adapter version, and the ACTIVE file
// that names the active version. VersionRegistry (core/registry.h) decides where these files
// live and when they are written; this file only turns records into bytes and back.
//
// Version file ("v<version, 20 digits zero-padded>.rfx"), all integers little-endian, floats as
// IEEE-754 bits:
//   magic                    4 bytes  "RFXV"
//   format_version           u32      1
//   version, parent, epoch   u64 each
//   width, hidden            u32 each
//   adapter_checksum         u64      AdapterVersion::checksum
//   weight_count             u64, then weight_count f32
//   reason                   u32 length + bytes
//   created_unix_ms          i64
//   metric_count             u32, then per metric: u32 length + name bytes, f64 value
//   file_checksum            u64      Fnv1a64 over every byte before it
// ACTIVE file:
//   magic "RFXA", u32 format_version 1, u64 active version, u64 Fnv1a64 over the bytes before it.
// EPOCH file (text, so an operator can read it): the last coordinator epoch taken, in decimal
//   ASCII digits, optionally followed by one "\n". No sign, no spaces, at most kMaxEpoch.
//
// Plain functions over values; safe from any thread. Units: created_unix_ms is milliseconds
// since the Unix epoch; metrics are whatever the caller recorded (fractions, ratios).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/adapter_version.h"
#include "core/status.h"

namespace reflex {

// One registry entry: an adapter version and what is known about it.
struct VersionRecord {
  AdapterVersion adapter;
  std::string reason;  // why it exists: "initial", "heal: fidi z=2.31", "rollback to 3", ...
  int64_t created_unix_ms = 0;
  std::map<std::string, double> metrics;  // e.g. "val_accuracy", "val_f1", "positive_rate"
};

// The record in the version file format.
std::string EncodeVersionRecord(const VersionRecord& record);
// Corruption, naming `source` (a file name) and what is wrong: short file, bad magic, file
// checksum mismatch, unknown format version, a field cut short, bytes after the last field.
// Does not run adapter.Verify(); the caller does.
Result<VersionRecord> DecodeVersionRecord(const std::string& bytes, const std::string& source);

// The ACTIVE file's bytes for `version`, and back (Corruption naming `source` when malformed).
std::string EncodeActiveFile(uint64_t version);
Result<uint64_t> DecodeActiveFile(const std::string& bytes, const std::string& source);

// The highest epoch a registry will record: far below 2^64 so that "epoch + 1" can never wrap
// (an epoch is taken once per coordinator start or fleet re-join, so 2^62 is never reached).
constexpr uint64_t kMaxEpoch = uint64_t{1} << 62;
// The EPOCH file's bytes for `epoch` ("17\n"), and back: Corruption naming `source` when the
// text is empty, has anything but digits (a sign, spaces, "0x"), or exceeds kMaxEpoch.
std::string EncodeEpochFile(uint64_t epoch);
Result<uint64_t> DecodeEpochFile(const std::string& bytes, const std::string& source);

}  // namespace reflex
