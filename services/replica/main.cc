// reflex-replica: one inference replica as a process (docs/DESIGN.md §4).
//   reflex-replica --config configs/replica.toml [--set replica.id=replica-2 ...]
// Serves scores on scoring_endpoint (ZeroMQ, PROTOCOL.md), applies versions from the weight
// bus, sends drift summaries to the coordinator. /readyz is 503 until the replica holds the
// fleet's version. SIGTERM/SIGINT: every request already accepted is answered, then it stops.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <prometheus/registry.h>

#include "actors/replica.h"
#include "services/common/json_log.h"
#include "services/common/security_config.h"
#include "services/common/service_cli.h"
#include "services/common/service_host.h"
#include "services/common/service_start.h"
#include "transport/curve_keys.h"

namespace {

reflex::services::ConfigSchema Schema() {
  reflex::services::ConfigSchema s;
  const std::string r = "replica";
  s.keys = {{r, "id", std::string("replica-1")},
            {r, "model", std::string("model")},
            {r, "scoring_endpoint", std::string("tcp://127.0.0.1:7500")},
            {r, "scoring_workers", int64_t{2}},
            {r, "coordinator_host", std::string("127.0.0.1")},
            {r, "coordinator_port", int64_t{7400}},
            {r, "weights_publish", std::string("tcp://127.0.0.1:7402")},
            {r, "weights_snapshot", std::string("tcp://127.0.0.1:7403")},
            {r, "bus_heartbeat_ms", int64_t{500}},
            {r, "summary_rows", int64_t{500}},
            {r, "summary_interval_ms", int64_t{1000}},
            {r, "sample_rows", int64_t{200}},
            {r, "label_cache_rows", int64_t{100000}},
            {r, "reconnect_ms", int64_t{1000}},
            {r, "metrics_address", std::string("127.0.0.1:9500")},
            {r, "probe_port", int64_t{9600}},
            {"security", "curve", true},
            {"security", "key_dir", std::string("keys")},
            {"security", "key_name", std::string("replica")},
            {"security", "coordinator_key", std::string("keys/coordinator.pub")},
            {"security", "scoring_clients", std::string("keys/clients")}};
  reflex::services::AddTlsKeys(s, "replica");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reflex;
  services::BlockStopSignals();
  auto cli = services::ParseServiceCommandLine(argc, argv, "replica", Schema());
  if (!cli.config) return cli.exit_code;
  const services::ServiceConfig& cfg = *cli.config;
  const std::string r = "replica";
  actors::ReplicaOptions opt;
  opt.id = cfg.String(r, "id");
  actors::EventLog log = services::MakeJsonLog("replica", opt.id);
  auto fail = [&](const std::string& what, int code) { return services::StartFailure(log, "replica", what, code); };
  services::LogSecurityMode(cfg, log, true);  // first: an insecure start is loud even if it fails
  auto bundle = services::LoadSharedBundle(cfg, r);
  if (!bundle.ok()) return fail(bundle.status().message(), 1);
  opt.bundle = *bundle;
  opt.scoring_endpoint = cfg.String(r, "scoring_endpoint");
  opt.scoring_workers = static_cast<int>(cfg.Int(r, "scoring_workers"));
  opt.coordinator = services::CoordinatorAddressFrom(cfg, r);
  opt.weights_publish = cfg.String(r, "weights_publish");
  opt.weights_snapshot = cfg.String(r, "weights_snapshot");
  opt.bus_heartbeat_ms = static_cast<int>(cfg.Int(r, "bus_heartbeat_ms"));
  opt.summary_rows = static_cast<int>(cfg.Int(r, "summary_rows"));
  opt.summary_interval_ms = static_cast<int>(cfg.Int(r, "summary_interval_ms"));
  opt.sample_rows = static_cast<int>(cfg.Int(r, "sample_rows"));
  opt.label_cache_rows = static_cast<int>(cfg.Int(r, "label_cache_rows"));
  // [security]: CURVE on the weight bus (client of the coordinator's key) and on scoring.
  if (services::CurveOn(cfg)) {
    auto own = services::LoadOwnKeys(cfg, "security");
    if (!own.ok()) return fail(own.status().message(), 2);
    auto coordinator_key = transport::ReadPublicKey(cfg.String("security", "coordinator_key"));
    if (!coordinator_key.ok()) return fail("[security] coordinator_key: " + coordinator_key.status().message(), 2);
    auto clients = services::LoadAllowList(cfg, "security", "scoring_clients");
    if (!clients.ok()) return fail(clients.status().message(), 2);
    opt.security.curve = true;
    opt.security.own = *own;
    opt.security.coordinator_public = *coordinator_key;
    opt.security.scoring_clients = *clients;
    log("security", {{"curve", true}, {"public_key", own->public_key}, {"scoring_clients", clients->size()}});
  }
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

  auto replica = actors::SpawnReplica(system, opt);
  if (!replica.ok()) return fail(replica.status().message(), 1);
  actors::replica_actor handle = *replica;
  auto host = services::ServiceHost::Start(
      registry, cfg.String(r, "metrics_address"), static_cast<uint16_t>(cfg.Int(r, "probe_port")),
      [&system, handle]() -> std::pair<bool, std::string> {
        std::pair<bool, std::string> verdict{false, "no answer from the replica actor"};
        caf::scoped_actor self{system};
        self->request(handle, std::chrono::seconds(2), actors::status_atom::value)
            .receive(
                [&](std::string& json) {
                  auto j = nlohmann::json::parse(json, nullptr, false);
                  const bool ready = j.is_object() && j.value("ready", false);
                  const bool fenced = j.is_object() && j.value("fenced", false);
                  verdict = {ready, ready    ? "serving version " + std::to_string(j.value("version", uint64_t{0})) +
                                                   " epoch " + std::to_string(j.value("epoch", uint64_t{0}))
                                    : fenced ? "fenced: the coordinator's epoch " +
                                                   std::to_string(j.value("coordinator_epoch", uint64_t{0})) +
                                                   " is below epoch " + std::to_string(j.value("highest_epoch", uint64_t{0})) +
                                                   " seen on the weight bus; its updates are ignored"
                                             : "waiting for the fleet's adapter version from the weight bus"};
                },
                [&](caf::error& err) { verdict.second = system.render(err); });
        return verdict;
      });
  if (!host.ok()) {
    caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
    return fail(host.status().message(), 1);
  }
  const int sig = services::WaitForStopSignal();
  log("stopping", {{"signal", sig}});
  host->reset();
  caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);  // answers accepted requests first
  return 0;
}
