// reflex-coordinator: the fleet's coordinator as a process (docs/DESIGN.md §4).
//   reflex-coordinator --config configs/coordinator.toml [--set coordinator.actor_port=7410]
// Publishes the coordinator actor on actor_port (caf::io), serves reflexctl on
// control_endpoint, the weight bus on weights_publish/weights_snapshot, metrics and probes.
// SIGTERM/SIGINT: stops taking commands, stops the actor (the registry is written at every
// change, so nothing is lost), closes the bus.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <prometheus/registry.h>

#include "actors/coordinator.h"
#include "actors/wire_payload.h"
#include "services/common/json_log.h"
#include "services/common/security_config.h"
#include "services/common/service_cli.h"
#include "services/common/service_host.h"
#include "services/common/service_start.h"
#include "transport/control_server.h"

namespace {

using reflex::services::ConfigSchema;

ConfigSchema Schema() {
  ConfigSchema s;
  const std::string c = "coordinator";
  s.keys = {{c, "id", std::string("coordinator")},
            {c, "model", std::string("model")},
            {c, "registry_dir", std::string("registry")},
            {c, "registry_repair", false},
            {c, "actor_host", std::string("127.0.0.1")},
            {c, "actor_port", int64_t{7400}},
            {c, "control_endpoint", std::string("tcp://127.0.0.1:7401")},
            {c, "weights_publish", std::string("tcp://127.0.0.1:7402")},
            {c, "weights_snapshot", std::string("tcp://127.0.0.1:7403")},
            {c, "metrics_address", std::string("127.0.0.1:9400")},
            {c, "probe_port", int64_t{9401}},
            {c, "bus_heartbeat_ms", int64_t{500}},
            {c, "healer_heartbeat_ms", int64_t{1000}},
            {c, "healer_misses", int64_t{3}},
            {c, "heal_timeout_ms", int64_t{60000}},
            {c, "window_summaries", int64_t{5}},
            {"policy", "mode", std::string("auto")},
            {"policy", "fidi_threshold", 1.0},
            {"policy", "conflict_threshold", 0.30},
            {"policy", "min_rows", int64_t{300}},
            {"policy", "window_rows", int64_t{500}},
            {"policy", "cooldown_ms", int64_t{10000}},
            {"security", "curve", true},
            {"security", "key_dir", std::string("keys")},
            {"security", "key_name", std::string("coordinator")},
            {"security", "bus_clients", std::string("keys/replicas")},
            {"security", "operators", std::string("keys/operators")}};
  s.open_sections = {"policy"};
  reflex::services::AddTlsKeys(s, "coordinator");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reflex;
  services::BlockStopSignals();
  auto cli = services::ParseServiceCommandLine(argc, argv, "coordinator", Schema());
  if (!cli.config) return cli.exit_code;
  const services::ServiceConfig& cfg = *cli.config;
  const std::string c = "coordinator";
  const std::string id = cfg.String(c, "id");
  actors::EventLog log = services::MakeJsonLog("coordinator", id);
  auto fail = [&](const std::string& what, int code) { return services::StartFailure(log, "coordinator", what, code); };
  services::LogSecurityMode(cfg, log, true);  // first: an insecure start is loud even if it fails

  actors::CoordinatorOptions opt;
  opt.id = id;
  for (const auto& [key, value] : cfg.SectionText("policy")) {
    Status s = opt.policy.Set(key, value);
    if (!s.ok()) return fail("[policy] " + s.message(), 2);
  }
  if (Status s = opt.policy.Validate(); !s.ok()) return fail("[policy] " + s.message(), 2);
  auto bundle = services::LoadSharedBundle(cfg, c);
  if (!bundle.ok()) return fail(bundle.status().message(), 1);
  opt.bundle = *bundle;
  opt.registry_dir = cfg.String(c, "registry_dir");
  // A service always persists its registry: in memory, a restart would lose every version and
  // take epoch 1, which the fleet has fenced.
  if (opt.registry_dir.empty()) {
    return fail("[coordinator] registry_dir is empty: the coordinator service needs a folder for its registry "
                "(versions, ACTIVE, EPOCH) so that a restart keeps them",
                2);
  }
  opt.registry_repair = cfg.Bool(c, "registry_repair");
  if (opt.registry_repair) log("registry_repair", {{"registry_dir", opt.registry_dir}, {"detail", "starting even if EPOCH or ACTIVE is missing or damaged"}});
  opt.weights_publish = cfg.String(c, "weights_publish");
  opt.weights_snapshot = cfg.String(c, "weights_snapshot");
  opt.bus_heartbeat_ms = static_cast<int>(cfg.Int(c, "bus_heartbeat_ms"));
  opt.healer_heartbeat_ms = static_cast<int>(cfg.Int(c, "healer_heartbeat_ms"));
  opt.healer_misses = static_cast<int>(cfg.Int(c, "healer_misses"));
  opt.heal_timeout_ms = static_cast<int>(cfg.Int(c, "heal_timeout_ms"));
  opt.window_summaries = static_cast<int>(cfg.Int(c, "window_summaries"));
  // [security]: CURVE on the weight bus and the control endpoint (security_config.h).
  std::vector<std::string> operators;
  if (services::CurveOn(cfg)) {
    auto own = services::LoadOwnKeys(cfg, "security");
    if (!own.ok()) return fail(own.status().message(), 2);
    auto bus_clients = services::LoadAllowList(cfg, "security", "bus_clients");
    if (!bus_clients.ok()) return fail(bus_clients.status().message(), 2);
    auto ops = services::LoadAllowList(cfg, "security", "operators");
    if (!ops.ok()) return fail(ops.status().message(), 2);
    if (ops->empty()) return fail("[security] operators: with curve = true the control endpoint needs operator keys", 2);
    opt.security.curve = true;
    opt.security.own = *own;
    opt.security.bus_clients = *bus_clients;
    operators = *ops;
    log("security", {{"curve", true}, {"public_key", own->public_key}, {"bus_clients", bus_clients->size()},
                     {"operators", operators.size()}});
  }
  auto registry = std::make_shared<prometheus::Registry>();
  opt.metrics = registry;
  opt.log = log;

  caf::actor_system_config system_config;
  services::ConfigureActorSystem(system_config);
  bool tls = false;
  if (Status s = services::ConfigureActorLinks(system_config, cfg, log, &tls); !s.ok()) return fail(s.message(), 2);
  services::ConfigureCompute();
  caf::actor_system system{system_config};

  auto coordinator = actors::SpawnCoordinator(system, opt);
  if (!coordinator.ok()) return fail(coordinator.status().message(), 1);
  auto stop_actor = [&] { caf::anon_send_exit(*coordinator, caf::exit_reason::user_shutdown); };

  const auto port = static_cast<uint16_t>(cfg.Int(c, "actor_port"));
  const std::string actor_host = cfg.String(c, "actor_host");
  auto published = tls ? caf::openssl::publish(*coordinator, port, actor_host.c_str(), true)
                       : system.middleman().publish(*coordinator, port, actor_host.c_str(), true);
  if (!published) {
    stop_actor();
    return fail("actor_port " + std::to_string(port) + ": " + system.render(published.error()), 1);
  }

  transport::ControlServerOptions control_options;
  control_options.endpoint = cfg.String(c, "control_endpoint");
  if (opt.security.curve) {
    control_options.curve = transport::CurveServerConfig{{opt.security.own.public_key, opt.security.own.secret_key}};
    control_options.curve_allowed_clients = operators;  // only operators may send commands
  }
  actors::coordinator_actor target = *coordinator;
  auto control = transport::ControlServer::Start(
      [&system, target](const wire::ControlRequest& request) {
        wire::ControlReply reply;
        reply.request_id = request.request_id;
        caf::scoped_actor self{system};
        self->request(target, std::chrono::seconds(5), actors::control_atom::value, actors::EncodePayload(request))
            .receive(
                [&](std::string& bytes) {
                  auto decoded = actors::DecodePayload<wire::ControlReply>(bytes, "control reply");
                  if (decoded.ok()) reply = std::move(*decoded);
                  else { reply.error = wire::ErrorCode::kInternal; reply.message = decoded.status().message(); }
                },
                [&](caf::error& err) {
                  reply.error = wire::ErrorCode::kInternal;
                  reply.message = "coordinator actor did not answer: " + system.render(err);
                });
        return reply;
      },
      control_options);
  if (!control.ok()) {
    stop_actor();
    return fail(control.status().message(), 1);
  }

  auto host = services::ServiceHost::Start(registry, cfg.String(c, "metrics_address"),
                                           static_cast<uint16_t>(cfg.Int(c, "probe_port")),
                                           [] { return std::make_pair(true, std::string("coordinator serving")); });
  if (!host.ok()) {
    (*control)->Stop();
    stop_actor();
    return fail(host.status().message(), 1);
  }
  log("started", {{"actor_port", port}, {"control", (*control)->endpoint()}});

  const int sig = services::WaitForStopSignal();
  log("stopping", {{"signal", sig}});
  (*control)->Stop();
  stop_actor();
  host->reset();
  return 0;
}
