// reflex-healer: a heal worker process (docs/DESIGN.md §3, §4).
//   reflex-healer --config configs/healer.toml [--set healer.id=healer-2 --set healer.device=cpu]
// Joins the coordinator at coordinator_host:coordinator_port (again after losing it), runs heal
// jobs on CUDA when device allows and LibTorch sees one, else CPU; metrics and probes.
// SIGTERM/SIGINT: stops; a heal still running finishes first (seconds at most).
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <prometheus/registry.h>

#include "actors/healer.h"
#include "services/common/json_log.h"
#include "services/common/service_cli.h"
#include "services/common/service_host.h"
#include "services/common/service_start.h"

namespace {

reflex::services::ConfigSchema Schema() {
  reflex::services::ConfigSchema s;
  const std::string h = "healer";
  s.keys = {{h, "id", std::string("healer-1")},
            {h, "model", std::string("model")},
            {h, "coordinator_host", std::string("127.0.0.1")},
            {h, "coordinator_port", int64_t{7400}},
            {h, "device", std::string("auto")},
            {h, "max_concurrent", int64_t{1}},
            {h, "heartbeat_ms", int64_t{1000}},
            {h, "reconnect_ms", int64_t{1000}},
            {h, "metrics_address", std::string("127.0.0.1:9410")},
            {h, "probe_port", int64_t{9411}}};
  reflex::services::AddTlsKeys(s, "healer");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reflex;
  services::BlockStopSignals();
  auto cli = services::ParseServiceCommandLine(argc, argv, "healer", Schema());
  if (!cli.config) return cli.exit_code;
  const services::ServiceConfig& cfg = *cli.config;
  const std::string h = "healer";
  actors::HealerOptions opt;
  opt.id = cfg.String(h, "id");
  actors::EventLog log = services::MakeJsonLog("healer", opt.id);
  auto fail = [&](const std::string& what, int code) { return services::StartFailure(log, "healer", what, code); };
  services::LogSecurityMode(cfg, log, false);  // first: an insecure start is loud even if it fails
  opt.device = cfg.String(h, "device");
  auto cuda = actors::ResolveHealerDevice(opt.device);
  if (!cuda.ok()) return fail(cuda.status().message(), 2);
  auto bundle = services::LoadSharedBundle(cfg, h);
  if (!bundle.ok()) return fail(bundle.status().message(), 1);
  opt.bundle = *bundle;
  opt.coordinator = services::CoordinatorAddressFrom(cfg, h);
  opt.max_concurrent = static_cast<int>(cfg.Int(h, "max_concurrent"));
  opt.heartbeat_ms = static_cast<int>(cfg.Int(h, "heartbeat_ms"));
  auto registry = std::make_shared<prometheus::Registry>();
  opt.metrics = registry;
  opt.log = log;

  caf::actor_system_config system_config;
  services::ConfigureActorSystem(system_config);
  bool tls = false;
  if (Status s = services::ConfigureActorLinks(system_config, cfg, log, &tls); !s.ok()) return fail(s.message(), 2);
  opt.coordinator.tls = tls;
  services::ConfigureCompute();
  caf::actor_system system{system_config};
  auto connected = std::make_shared<std::atomic<bool>>(false);
  opt.connected = connected;
  auto healer = system.spawn(actors::HealerBehavior, opt);
  log("started", {{"device", *cuda ? "cuda" : "cpu"}});
  auto host = services::ServiceHost::Start(registry, cfg.String(h, "metrics_address"),
                                           static_cast<uint16_t>(cfg.Int(h, "probe_port")),
                                           [connected] {
                                             return connected->load()
                                                        ? std::make_pair(true, std::string("healer joined the coordinator"))
                                                        : std::make_pair(false, std::string("no link to the coordinator"));
                                           });
  if (!host.ok()) {
    caf::anon_send_exit(healer, caf::exit_reason::user_shutdown);
    return fail(host.status().message(), 1);
  }
  const int sig = services::WaitForStopSignal();
  log("stopping", {{"signal", sig}});
  host->reset();
  caf::anon_send_exit(healer, caf::exit_reason::user_shutdown);
  return 0;
}
