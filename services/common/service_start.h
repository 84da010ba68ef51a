// What the three service mains share at start-up, so that each main only says what differs:
//   - ConfigureActorSystem: caf::io loaded (processes reach each other's actors), CAF's own
//     logger quiet (services log JSON lines through EventLog), the scheduler tuned for mostly
//     idle actors (actors/scheduler_tuning.h);
//   - ConfigureCompute: one LibTorch/OpenBLAS thread per model call (model/compute_threads.h);
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

// The [security] keys of actor-link TLS and of the insecure switch, in every service's schema:
//   tls = true|false, tls_dir = "keys/tls", tls_name = "<service>", insecure = false|true
// Secure by default: tls (and, in the coordinator and replicas, curve) default to true.
// Insecure mode is explicit: `insecure = true` turns curve and tls off together; turning a key
// off alone also runs that part insecure. Either way LogSecurityMode logs an `insecure_mode`
// line at level warning at start-up, naming what is off.
// With tls = true, CAF's OpenSSL module is loaded with <tls_dir>/<tls_name>.pem (certificate),
// <tls_dir>/<tls_name>.key and <tls_dir>/ca.pem (the cluster CA, written by
// deploy/gen-tls.sh): every actor link is TLS, and CAF verifies the peer's certificate against
// the CA both ways (a peer without a CA-signed certificate is dropped during the handshake,
// before any BASP header is read, so it cannot make this process allocate). With tls = false
// the actor port trusts every peer that reaches it (LogSecurityMode says so).
// FailedPrecondition naming the file when one is missing or unreadable.
void AddTlsKeys(ConfigSchema& schema, const std::string& service);
// Whether ZeroMQ CURVE / actor-link TLS are on: the key, unless `insecure = true`.
bool CurveOn(const ServiceConfig& cfg);
bool TlsOn(const ServiceConfig& cfg);
// Logs `insecure_mode` (level warning) when anything is off; `has_curve`: the service has
// ZeroMQ sockets (the healer has none).
void LogSecurityMode(const ServiceConfig& cfg, const actors::EventLog& log, bool has_curve);
Status ConfigureActorLinks(caf::actor_system_config& config, const ServiceConfig& cfg, const actors::EventLog& log,
                           bool* tls);

// Every service runs model calls on several threads already (scoring workers, detached heal
// workers); LibTorch's intra-op threads on top made a heal about 10x slower on a busy 2-core
// machine (reflex-bench heal-to-fleet: 5-10 s against 0.5-0.9 s), each parallel op waiting for
// its slower half. So each model call gets one thread.
void ConfigureCompute();

// Logs start_failed, prints "reflex-<service>: <what>" on stderr and returns `exit_code`.
int StartFailure(const actors::EventLog& log, const std::string& service, const std::string& what, int exit_code);

// The bundle named by <section>.model, shared between the actors of this process.
Result<std::shared_ptr<const ModelBundle>> LoadSharedBundle(const ServiceConfig& config, const std::string& section);

// <section>.coordinator_host, .coordinator_port and .reconnect_ms.
actors::CoordinatorAddress CoordinatorAddressFrom(const ServiceConfig& config, const std::string& section);

}  // namespace reflex::services
