// The weight bus: how the coordinator broadcasts adapter versions to every replica, following
// the ZeroMQ guide's Clone pattern (docs/DESIGN.md §4).
//
//   coordinator: WeightPublisher ── PUB  ──[topic, frame]──► SUB    ┐ WeightSubscriber
//                                 └ ROUTER ◄─SnapshotRequest─ DEALER ┘ (one per replica)
//
// Bus frames (two per message, topic first; the payload is one wire codec frame, codec.h):
//   ["adapter",   Encode(AdapterUpdate{sequence, adapter})]  one per published version
//   ["heartbeat", Encode(Heartbeat{sender, epoch, sequence, latest_version, unix_ms})]
// `sequence` numbers the bus messages that carry versions, 1, 2, 3, ... per publisher; a
// heartbeat repeats the last one, so a subscriber that lost the tail of the stream notices.
// Snapshot (DEALER → ROUTER, one frame each way):
//   request  Encode(SnapshotRequest{subscriber_id})
//   reply    Encode(AdapterUpdate) of the latest version with its bus sequence, or
//            Encode(ControlReply{error kNotReady}) when nothing has been published yet.
// A subscriber subscribes first, then asks for the snapshot, then applies only versions newer
// than what it has (version_fence.h), so it can join at any time and never goes backwards.
//
// Security (optional): the PUB and ROUTER are CURVE servers with the coordinator's key; the SUB
// and DEALER are CURVE clients that were given the coordinator's public key, so a publisher
// with any other key cannot complete a handshake, and the coordinator's ZAP allow-list
// (zap_authenticator.h) decides which replicas may listen.
#pragma once

#include <chrono>

namespace reflex::transport {

constexpr char kAdapterTopic[] = "adapter";
constexpr char kHeartbeatTopic[] = "heartbeat";

// Default heartbeat period of the bus; subscribers declare the publisher silent after
// kDefaultHeartbeatMisses periods without any message.
constexpr std::chrono::milliseconds kDefaultHeartbeatInterval{1000};
constexpr int kDefaultHeartbeatMisses = 3;

}  // namespace reflex::transport
