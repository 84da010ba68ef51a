// JsonLog: one JSON object per line on stderr for every event a service reports:
//   {"ts":"2026-11-25T22:41:07.123Z","level":"info","service":"replica","id":"replica-1",
//    "event":"version_applied","msg":"version applied","version":3}
// Every line has a level (debug|info|warning|error) and a human message: a `level` / `msg`
// field of the event wins; else the level follows the event name (LevelOf) and the message is
// the event's `detail` or `error` field, else the event name in words.
// Lines are built with nlohmann-json (so quotes in values are escaped) and written whole under
// a mutex, so lines from different threads never interleave. Thread-safe.
#pragma once

#include <string>

#include "actors/cluster_options.h"

namespace reflex::services {

// The level of an event without a `level` field: error for start_failed and *_fatal; warning
// for names saying something went wrong (failed, error, refused, lost, problem, fenced,
// dropped, rejected, stale, timeout, warning, insecure); else info.
std::string LevelOf(const std::string& event);

// An EventLog (actors/cluster_options.h) writing JSON lines for `service` / `id` to stderr.
actors::EventLog MakeJsonLog(const std::string& service, const std::string& id);

}  // namespace reflex::services
