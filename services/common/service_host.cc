#include "services/common/service_host.h"

#include <pthread.h>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "services/common/service_config.h"

namespace reflex::services {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

Result<std::unique_ptr<ServiceHost>> ServiceHost::Start(std::shared_ptr<prometheus::Registry> registry,
                                                        const std::string& metrics_address, uint16_t probe_port,
                                                        transport::ReadinessCheck ready) {
  std::unique_ptr<ServiceHost> host(new ServiceHost());
  host->registry_ = std::move(registry);
  if (PortOf(metrics_address) == 0) {
    return Status::InvalidArgument("metrics_address '" + metrics_address + "': expected HOST:PORT with PORT in 1..65535");
  }
  transport::HttpProbeServerOptions mo;
  mo.address = HostOf(metrics_address);
  mo.port = PortOf(metrics_address);
  std::shared_ptr<prometheus::Registry> reg = host->registry_;
  mo.metrics = [reg] { return prometheus::TextSerializer().Serialize(reg->Collect()); };
  auto metrics = transport::HttpProbeServer::Start(ready, mo);
  if (!metrics.ok()) return metrics.status().WithContext("metrics_address " + metrics_address);
  host->metrics_ = std::move(*metrics);
  transport::HttpProbeServerOptions po;
  po.address = HostOf(metrics_address);
  po.port = probe_port;
  auto probes = transport::HttpProbeServer::Start(std::move(ready), po);
  if (!probes.ok()) return probes.status().WithContext("probe_port " + std::to_string(probe_port));
  host->probes_ = std::move(*probes);
  return host;
}

ServiceHost::~ServiceHost() {
  if (probes_) probes_->Stop();
  if (metrics_) metrics_->Stop();
}

}  // namespace reflex::services
