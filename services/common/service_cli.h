// The command line every service shares:
//   reflex-<service> --config FILE [--set SECTION.KEY=VALUE ...] [--print-config]
// --print-config prints the effective configuration as JSON and exits 0.
// Exit codes of the services: 0 clean stop; 2 bad arguments or configuration; 1 a start-up
// failure (bind, registry, bundle) — each with a one-line reason on stderr.
#pragma once

#include <optional>
#include <string>

#include "services/common/service_config.h"

namespace reflex::services {

// Parses argv and loads the configuration. Returns the exit code to use when main should stop
// now (--help, --print-config, or an error already reported on stderr), else the config.
struct CliOutcome {
  std::optional<ServiceConfig> config;
  int exit_code = 0;
};
CliOutcome ParseServiceCommandLine(int argc, char** argv, const std::string& service, const ConfigSchema& schema);

}  // namespace reflex::services
