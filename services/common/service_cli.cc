#include "services/common/service_cli.h"

#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>

namespace reflex::services {

CliOutcome ParseServiceCommandLine(int argc, char** argv, const std::string& service, const ConfigSchema& schema) {
  CLI::App app{"reflex-" + service + ": see configs/" + service + ".toml for every setting"};
  std::string config_path;
  std::vector<std::string> sets;
  bool print_config = false;
  app.add_option("--config", config_path, "TOML configuration file");
  app.add_option("--set", sets, "override one setting: SECTION.KEY=VALUE (repeatable)");
  app.add_flag("--print-config", print_config, "print the effective configuration as JSON and exit");
  CliOutcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    out.exit_code = app.exit(e) == 0 ? 0 : 2;
    return out;
  }
  auto config = ServiceConfig::Load(schema, config_path, sets);
  if (!config.ok()) {
    std::fprintf(stderr, "reflex-%s: %s\n", service.c_str(), config.status().message().c_str());
    out.exit_code = 2;
    return out;
  }
  if (print_config) {
    std::printf("%s\n", config->ToJson().dump(2).c_str());
    out.exit_code = 0;
    return out;
  }
  out.config = std::move(*config);
  return out;
}

}  // namespace reflex::services
