// Connector: finds the coordinator for a replica or healer, and finds it again after a loss.
//
// SpawnConnector starts a detached blocking actor (remote_actor() blocks, so it never runs on
// the cooperative scheduler) that tries caf::io's remote_actor<coordinator_actor>(host, port)
// (caf::openssl's, mutual TLS, when address.tls) every reconnect_ms until it succeeds, then sends {connect_atom, coordinator} to `target` and
// ends. It also ends, without sending, when `target` goes down, so it never outlives its owner
// and never holds up actor-system shutdown. In embedded mode (address.local set) it sends the
// local handle at once.
// Threading: call from the owning actor; the connector runs on its own thread.
#pragma once

#include <caf/all.hpp>

#include "actors/cluster_options.h"

namespace reflex::actors {

void SpawnConnector(caf::actor_system& system, const CoordinatorAddress& address, caf::actor target);

}  // namespace reflex::actors
