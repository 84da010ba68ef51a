// The cluster's typed actor interfaces (CAF 0.17), all in one place (docs/DESIGN.md §4).
//
//   replica ──hello, summary, label──► coordinator ──heal──► healer
//      ▲                                   │  ▲                 │
//      └──label (relayed)──────────────────┘  └──beat, healer───┘
//   reflexctl ──(ZeroMQ control, services/)──► coordinator: control
// Adapter weights do not travel as actor messages: the coordinator publishes them on the
// ZeroMQ weight bus (transport/weight_publisher.h) and replicas subscribe.
//
// Payloads that are also wire messages (drift summaries, heal jobs and results, operator
// commands) travel as their wire encoding (libs/wire, PROTOCOL.md) in a std::string. The
// receiver decodes them with the wire codec's limits, so a message from another process is
// validated exactly like any other network input, and CAF needs no custom type announcements.
// Every request between processes carries a timeout (TOOLCHAIN.md: a request to a dead remote
// actor otherwise never ends).
#pragma once

#include <cstdint>
#include <string>

#include <caf/all.hpp>

namespace reflex::actors {

// Atoms (CAF 0.17: at most 10 characters).
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using healer_atom = caf::atom_constant<caf::atom("healer")>;
using beat_atom = caf::atom_constant<caf::atom("beat")>;
using summary_atom = caf::atom_constant<caf::atom("summary")>;
using label_atom = caf::atom_constant<caf::atom("label")>;
using control_atom = caf::atom_constant<caf::atom("control")>;
using heal_atom = caf::atom_constant<caf::atom("heal")>;
using healdone_atom = caf::atom_constant<caf::atom("healdone")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using admit_atom = caf::atom_constant<caf::atom("admit")>;

// The coordinator: merges drift, decides and validates heals, keeps the registry, publishes.
using coordinator_actor = caf::typed_actor<
    // A replica joins (or rejoins): its id, its scoring endpoint and its handle (monitored).
    // Replies with the coordinator's epoch; an error when another live connection holds that id.
    caf::replies_to<hello_atom, std::string, std::string, caf::actor>::with<uint64_t>,
    // A healer joins: its id, its device ("cpu", "cuda:0"), how many jobs it runs at once, and
    // its handle (monitored; a healer_actor).
    caf::reacts_to<healer_atom, std::string, std::string, uint32_t, caf::actor>,
    // A healer's heartbeat: its id and the number of jobs it is running now.
    caf::reacts_to<beat_atom, std::string, uint32_t>,
    // A replica's drift summary: an encoded wire::DriftSummary.
    caf::reacts_to<summary_atom, std::string>,
    // A delayed label that the receiving replica (first string) could not join to a row it
    // scored: request id, row index, label 0/1. Relayed to the other replicas.
    caf::reacts_to<label_atom, std::string, uint64_t, uint32_t, uint8_t>,
    // An operator command: encoded wire::ControlRequest in, encoded wire::ControlReply out.
    caf::replies_to<control_atom, std::string>::with<std::string>,
    // Internal: the coordinator's periodic check (healer liveness, heal timing).
    caf::reacts_to<tick_atom>,
    // Internal: a detached validator's verdict on job (id, attempt): admitted?, reason, the
    // positive rate the coordinator measured.
    caf::reacts_to<admit_atom, uint64_t, uint64_t, bool, std::string, double>>;

// A healer: runs heal jobs on the core healer in detached workers (never on the scheduler).
using healer_actor = caf::typed_actor<
    // An encoded wire::HealJob in, an encoded wire::HealResult out (a rejected candidate is a
    // result, not an error; an error means the job itself was bad or the healer is full).
    caf::replies_to<heal_atom, std::string>::with<std::string>,
    // Internal: a worker finished job (id) with an encoded wire::HealResult.
    caf::reacts_to<healdone_atom, uint64_t, std::string>,
    // Internal: the connector reached the coordinator (a coordinator_actor).
    caf::reacts_to<connect_atom, caf::actor>,
    // Internal: heartbeat timer.
    caf::reacts_to<tick_atom>>;

// A replica: serves scores over ZeroMQ, applies weight-bus versions, summarises drift.
using replica_actor = caf::typed_actor<
    // A delayed label for (request id, row): label 0/1; `relayed` is true when it came from the
    // coordinator (then an unmatched label is dropped, not forwarded again).
    caf::reacts_to<label_atom, uint64_t, uint32_t, uint8_t, bool>,
    // This replica's state as a JSON object (id, ready, version, rows scored, counters).
    caf::replies_to<status_atom>::with<std::string>,
    // Internal: the connector reached the coordinator (a coordinator_actor).
    caf::reacts_to<connect_atom, caf::actor>,
    // Internal: summary timer.
    caf::reacts_to<tick_atom>>;

}  // namespace reflex::actors
