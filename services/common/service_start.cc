#include "services/common/service_start.h"

#include <cstdio>

#include <caf/io/all.hpp>

namespace reflex::services {

void ConfigureActorSystem(caf::actor_system_config& config) {
  config.load<caf::io::middleman>();
  config.set("logger.verbosity", caf::atom("quiet"));
}

int StartFailure(const actors::EventLog& log, const std::string& service, const std::string& what, int exit_code) {
  if (log) log("start_failed", {{"error", what}});
  std::fprintf(stderr, "reflex-%s: %s\n", service.c_str(), what.c_str());
  return exit_code;
}

Result<std::shared_ptr<const ModelBundle>> LoadSharedBundle(const ServiceConfig& config, const std::string& section) {
  auto bundle = LoadModelBundle(config.String(section, "model"));
  if (!bundle.ok()) return bundle.status();
  return std::make_shared<const ModelBundle>(std::move(*bundle));
}

actors::CoordinatorAddress CoordinatorAddressFrom(const ServiceConfig& config, const std::string& section) {
  actors::CoordinatorAddress address;
  address.host = config.String(section, "coordinator_host");
  address.port = static_cast<uint16_t>(config.Int(section, "coordinator_port"));
  address.reconnect_ms = static_cast<int>(config.Int(section, "reconnect_ms"));
  return address;
}

}  // namespace reflex::services
