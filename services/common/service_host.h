// ServiceHost: what every Reflex service main shares.
//   - Blocks SIGTERM and SIGINT in every thread (call it first in main, before any thread
//     starts) so that WaitForStopSignal() can take them with sigwait: a clean stop, never a
//     handler running in a random thread.
//   - Serves Prometheus metrics at http://<metrics_address>/metrics (the registry rendered by
//     prometheus-cpp's TextSerializer), and the HTTP probes /healthz and /readyz on the same
//     host at probe_port (both with transport/http_probe_server.h). prometheus-cpp's own
//     Exposer (civetweb) fails to start inside our services here ("null context when
//     constructing CivetServer" although its bind succeeds), so it is not used.
// Ownership: the host owns the exposer and the probe server; destroy it before the registry.
// Threading: construct and wait on the main thread.
#pragma once

#include <csignal>
#include <memory>
#include <string>

#include "core/status.h"
#include "transport/http_probe_server.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace reflex::services {

// Blocks SIGTERM/SIGINT for this thread and every thread it starts later.
void BlockStopSignals();
// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForStopSignal();

class ServiceHost {
 public:
  // Starts the exposer and probe server. Errors name the address that could not be bound.
  static Result<std::unique_ptr<ServiceHost>> Start(std::shared_ptr<prometheus::Registry> registry,
                                                    const std::string& metrics_address, uint16_t probe_port,
                                                    transport::ReadinessCheck ready);
  ~ServiceHost();

 private:
  ServiceHost() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<transport::HttpProbeServer> metrics_;
  std::unique_ptr<transport::HttpProbeServer> probes_;
};

}  // namespace reflex::services
