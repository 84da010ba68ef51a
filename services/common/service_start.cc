#include "services/common/service_start.h"

#include <cstdio>

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <fstream>

#include "actors/scheduler_tuning.h"
#include "model/compute_threads.h"

namespace reflex::services {

void ConfigureActorSystem(caf::actor_system_config& config) {
  config.load<caf::io::middleman>();
  config.set("logger.verbosity", caf::atom("quiet"));
  actors::TuneSchedulerForIdleActors(config);
}

void AddTlsKeys(ConfigSchema& schema, const std::string& service) {
  schema.keys.push_back({"security", "tls", false});
  schema.keys.push_back({"security", "tls_dir", std::string("keys/tls")});
  schema.keys.push_back({"security", "tls_name", service});
}

Status ConfigureActorLinks(caf::actor_system_config& config, const ServiceConfig& cfg, const actors::EventLog& log,
                           bool* tls) {
  *tls = cfg.Bool("security", "tls");
  if (!*tls) {
    if (log) {
      log("security_warning", {{"detail", "[security] tls = false: actor links are plain TCP; any peer that reaches the "
                                          "actor port is trusted and can make this process allocate what it claims"}});
    }
    return Status::Ok();
  }
  const std::string dir = cfg.String("security", "tls_dir"), name = cfg.String("security", "tls_name");
  const std::string cert = dir + "/" + name + ".pem", key = dir + "/" + name + ".key", ca = dir + "/ca.pem";
  for (const std::string& file : {cert, key, ca}) {
    std::ifstream in(file);
    if (!in) {
      return Status::FailedPrecondition("[security] tls: cannot read " + file +
                                        " (make the files with deploy/gen-tls.sh, or set tls_dir / tls_name)");
    }
  }
  config.load<caf::openssl::manager>();
  config.openssl_certificate = cert;
  config.openssl_key = key;
  config.openssl_cafile = ca;
  if (log) log("security", {{"tls", true}, {"certificate", cert}, {"ca", ca}});
  return Status::Ok();
}

void ConfigureCompute() { SetComputeThreads(1); }

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
