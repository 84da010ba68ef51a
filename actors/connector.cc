#include "actors/connector.h"

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/interfaces.h"

namespace reflex::actors {

void SpawnConnector(caf::actor_system& system, const CoordinatorAddress& address, caf::actor target) {
  if (address.local) {
    caf::anon_send(target, connect_atom::value, address.local);
    return;
  }
  const std::string host = address.host;
  const uint16_t port = address.port;
  const auto retry = std::chrono::milliseconds(std::max(10, address.reconnect_ms));
  const bool tls = address.tls;
  system.spawn<caf::detached>([host, port, retry, target, tls](caf::blocking_actor* self) {
    self->monitor(target);
    bool owner_gone = false;
    while (!owner_gone) {
      auto found = tls ? caf::openssl::remote_actor<coordinator_actor>(self->system(), host, port)
                       : self->system().middleman().remote_actor<coordinator_actor>(host, port);
      if (found) {
        self->send(target, connect_atom::value, caf::actor_cast<caf::actor>(*found));
        return;
      }
      self->receive([&](caf::down_msg&) { owner_gone = true; },
                    caf::after(retry) >> [] {});
    }
  });
}

}  // namespace reflex::actors
