// JsonLog: one JSON object per line on stderr for every event a service reports:
//   {"ts":"2026-11-25T22:41:07.123Z","service":"replica","id":"replica-1","event":"version_applied","version":3}
// Lines are built with nlohmann-json (so quotes in values are escaped) and written whole under
// a mutex, so lines from different threads never interleave. Thread-safe.
#pragma once

#include <string>

#include "actors/cluster_options.h"

namespace reflex::services {

// An EventLog (actors/cluster_options.h) writing JSON lines for `service` / `id` to stderr.
actors::EventLog MakeJsonLog(const std::string& service, const std::string& id);

}  // namespace reflex::services
