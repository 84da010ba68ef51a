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
  schema.keys.push_back({"security", "tls", true});
  schema.keys.push_back({"security", "insecure", false});
  schema.keys.push_back({"security", "tls_dir", std::string("keys/tls")});
  schema.keys.push_back({"security", "tls_name", service});
}

bool CurveOn(const ServiceConfig& cfg) { return !cfg.Bool("security", "insecure") && cfg.Bool("security", "curve"); }
bool TlsOn(const ServiceConfig& cfg) { return !cfg.Bool("security", "insecure") && cfg.Bool("security", "tls"); }

void LogSecurityMode(const ServiceConfig& cfg, const actors::EventLog& log, bool has_curve) {
  const bool curve_off = has_curve && !CurveOn(cfg), tls_off = !TlsOn(cfg);
  if (!log || (!curve_off && !tls_off)) return;
  std::string detail = "INSECURE MODE";
  detail += cfg.Bool("security", "insecure") ? " ([security] insecure = true):" : ":";
  if (curve_off) detail += " ZeroMQ sockets without CURVE (anyone who reaches them can score, command or publish);";
  if (tls_off) {
    detail += " actor links are plain TCP (any peer that reaches the actor port is trusted and can make this "
              "process allocate what it claims);";
  }
  detail += " run only on a trusted private network";
  log("insecure_mode", {{"level", "warning"}, {"curve", !curve_off}, {"tls", !tls_off}, {"detail", detail}});
}

Status ConfigureActorLinks(caf::actor_system_config& config, const ServiceConfig& cfg, const actors::EventLog& log,
                           bool* tls) {
  *tls = TlsOn(cfg);
  if (!*tls) return Status::Ok();
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
