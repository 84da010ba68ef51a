// Options of the three cluster actors, as plain values. Services fill them from their TOML
// files and flags (services/common/service_config.h); the embedded cluster fills them in code.
// The defaults here are the documented defaults of configs/*.toml.
//
// Ownership: plain values; the shared_ptrs point at immutable or thread-safe objects.
// Units: milliseconds (_ms), rows, bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "core/heal_policy.h"
#include "model/model_bundle.h"

namespace prometheus {
class Registry;
}
namespace zmq {
class context_t;
}

namespace reflex::actors {

// Called for each notable event with its name and fields (a JSON object), from the thread that
// saw it (actor or transport thread): must be thread-safe. May be empty (no logging).
using EventLog = std::function<void(const std::string& event, const nlohmann::json& fields)>;

// How to reach the coordinator: a CAF host and port, or (embedded mode) a local handle.
struct CoordinatorAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 7400;
  caf::actor local;  // set in embedded mode: used instead of host:port
  int reconnect_ms = 1000;
  // Connect with CAF's OpenSSL module (mutual TLS; the actor system must have loaded
  // caf::openssl::manager with a certificate, key and CA: services/common/service_start.h).
  bool tls = false;
};

// CURVE keys in Z85 text (transport/curve_keys.h). Plain strings here so that this header needs
// no ZeroMQ include; the runtimes turn them into transport::Curve*Config.
struct CurveKeyText {
  std::string public_key;  // 40 Z85 characters
  std::string secret_key;  // 40 Z85 characters; never log it
};

// A replica's ZeroMQ security. curve = false: plain TCP (the default of configs/replica.toml).
// curve = true: the weight-bus SUB and snapshot DEALER are CURVE clients that talk only to the
// holder of coordinator_public (an impostor publisher cannot complete the handshake, so nothing
// it sends is ever read); the scoring ROUTER is a CURVE server with `own` keys that accepts only
// the client public keys in scoring_clients (empty: any client that knows own.public_key).
struct ReplicaSecurity {
  bool curve = false;
  CurveKeyText own;
  std::string coordinator_public;
  std::vector<std::string> scoring_clients;
};

// The coordinator's weight-bus security. curve = true: the PUB and snapshot ROUTER are CURVE
// servers with `own` keys and a ZAP handler on the bus's ZeroMQ context accepts only the
// subscriber public keys in bus_clients (empty: any subscriber that knows own.public_key).
// (The control endpoint's operator keys are the control server's business: services/coordinator.)
struct CoordinatorSecurity {
  bool curve = false;
  CurveKeyText own;
  std::vector<std::string> bus_clients;
};

struct ReplicaOptions {
  std::string id = "replica-1";
  std::shared_ptr<const ModelBundle> bundle;  // required
  std::string scoring_endpoint = "tcp://127.0.0.1:7500";
  int scoring_workers = 2;
  bool scoring_batching = true;  // coalesce concurrent requests (off only to measure it: reflex-bench)
  CoordinatorAddress coordinator;
  std::string weights_publish = "tcp://127.0.0.1:7402";
  std::string weights_snapshot = "tcp://127.0.0.1:7403";
  // Embedded mode: one ZeroMQ context shared with the coordinator, so the weight bus can use
  // inproc:// endpoints. Null: the replica makes its own.
  std::shared_ptr<zmq::context_t> zmq_context;
  int bus_heartbeat_ms = 500;
  int summary_rows = 500;
  int summary_interval_ms = 1000;
  int sample_rows = 200;
  int label_cache_rows = 100000;
  ReplicaSecurity security;
  std::shared_ptr<prometheus::Registry> metrics;  // may be null: a private registry
  EventLog log;
};

struct HealerOptions {
  std::string id = "healer-1";
  std::shared_ptr<const ModelBundle> bundle;  // required
  CoordinatorAddress coordinator;
  std::string device = "auto";  // auto | cpu | cuda
  int max_concurrent = 1;
  int heartbeat_ms = 1000;
  std::shared_ptr<prometheus::Registry> metrics;
  EventLog log;
  // When set, the healer keeps it true while it holds a link to the coordinator (its /readyz).
  std::shared_ptr<std::atomic<bool>> connected;
};

struct CoordinatorOptions {
  std::string id = "coordinator";
  std::shared_ptr<const ModelBundle> bundle;  // required
  std::string registry_dir = "registry";      // empty: in memory (tests, embedded demos)
  // Start on a registry whose EPOCH or ACTIVE is missing or damaged (core/registry.h: repair);
  // off, such a registry is refused with a message saying how to recover.
  bool registry_repair = false;
  std::string weights_publish = "tcp://127.0.0.1:7402";
  std::string weights_snapshot = "tcp://127.0.0.1:7403";
  std::shared_ptr<zmq::context_t> zmq_context;  // embedded mode (see ReplicaOptions); may be null
  int bus_heartbeat_ms = 500;
  int healer_heartbeat_ms = 1000;
  int healer_misses = 3;
  int heal_timeout_ms = 60000;
  int window_summaries = 5;
  CoordinatorSecurity security;
  HealPolicy policy;
  std::shared_ptr<prometheus::Registry> metrics;
  EventLog log;
};

}  // namespace reflex::actors
