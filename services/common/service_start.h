// What the three service mains share at start-up, so that each main only says what differs:
//   - ConfigureActorSystem: caf::io loaded (processes reach each other's actors), CAF's own
//     logger quiet (services log JSON lines through EventLog);
//   - StartFailure: one way to report a start-up failure (a start_failed log line and
//     "reflex-<service>: <what>" on stderr) and leave with an exit code;
//   - LoadSharedBundle / CoordinatorAddressFrom: the [<section>] model and coordinator keys.
// Plain functions; main thread only.
#pragma once

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/cluster_options.h"
#include "model/model_bundle.h"
#include "services/common/service_config.h"

namespace reflex::services {

void ConfigureActorSystem(caf::actor_system_config& config);

// Logs start_failed, prints "reflex-<service>: <what>" on stderr and returns `exit_code`.
int StartFailure(const actors::EventLog& log, const std::string& service, const std::string& what, int exit_code);

// The bundle named by <section>.model, shared between the actors of this process.
Result<std::shared_ptr<const ModelBundle>> LoadSharedBundle(const ServiceConfig& config, const std::string& section);

// <section>.coordinator_host, .coordinator_port and .reconnect_ms.
actors::CoordinatorAddress CoordinatorAddressFrom(const ServiceConfig& config, const std::string& section);

}  // namespace reflex::services
