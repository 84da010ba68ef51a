// WeightSubscriber: a replica's end of the weight bus (weight_bus.h). It keeps the newest
// intact adapter version the coordinator published, and keeps serving the last good one when
// the coordinator goes quiet or sends something wrong.
//
// Clone pattern: the SUB socket subscribes before anything else, then the DEALER asks the
// snapshot socket for the latest version, and from then on only versions newer than the
// applied one are applied (version_fence.h: intact, (epoch, version) increasing, epoch not
// fenced). It fetches the snapshot again when
//   - the bus sequence jumps (messages were dropped: a gap),
//   - a heartbeat advertises a sequence or version this subscriber has not got (it lost the
//     tail of the stream, or joined before its subscription reached the publisher),
//   - the publisher comes back after being silent.
// Liveness: any message from the bus (update or heartbeat of a current epoch) proves the
// publisher alive; after heartbeat_misses × heartbeat_interval without one the state becomes
// kSilent (logged, counted) and the applied version stays in place.
// Drops (integrity, fencing, order) are counted by DropReason and logged; exact duplicates are
// counted but not logged (snapshot overlap makes them normal).
//
// Ownership and threads: one subscriber thread owns both sockets and runs the callbacks
// (on_apply, log); keep them short and never call Stop() from them. latest(), ready(), state()
// and stats() are safe from any thread. Destroy (or Stop()) the subscriber before closing its
// zmq::context_t. Stop() returns within about one poll tick (at most 25 ms).
// Units: durations in milliseconds.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "core/adapter_version.h"
#include "core/status.h"
#include "transport/curve_keys.h"
#include "transport/version_fence.h"
#include "transport/weight_bus.h"
#include "wire/codec.h"

namespace reflex::transport {

enum class PublisherState {
  kWaiting = 0,  // nothing heard yet since Start
  kLive,         // a bus message arrived within the last dead_after
  kSilent,       // nothing for dead_after: serving the last applied version
};
const char* PublisherStateName(PublisherState state);  // "waiting", "live", "silent"

struct WeightSubscriberOptions {
  std::string subscriber_id = "replica";  // named in snapshot requests and logs
  std::string publish_endpoint;           // the publisher's PUB, e.g. "tcp://127.0.0.1:40123"
  std::string snapshot_endpoint;          // the publisher's snapshot ROUTER
  std::chrono::milliseconds heartbeat_interval = kDefaultHeartbeatInterval;  // the publisher's
  int heartbeat_misses = kDefaultHeartbeatMisses;  // dead_after = misses × interval
  std::chrono::milliseconds snapshot_timeout{1000};  // ask again when no reply by then
  std::optional<AdapterDims> expected_dims;  // versions with other dims are dropped
  std::optional<CurveClientConfig> curve;    // CURVE client on SUB and DEALER when set
  wire::Limits limits;                       // applied to every frame received
  std::function<void(const AdapterVersion&)> on_apply;  // each applied version, in order
  std::function<void(const std::string&)> log;          // drops, gaps, silence; may be empty
};

struct WeightSubscriberStats {
  uint64_t updates_received = 0;     // adapter messages on the bus (decoded)
  uint64_t heartbeats_received = 0;  // heartbeats (decoded)
  uint64_t stale_heartbeats = 0;     // heartbeats from a fenced (older) epoch, ignored
  uint64_t applied = 0;              // versions applied, from the bus or a snapshot
  uint64_t snapshots_requested = 0;
  uint64_t snapshot_replies = 0;
  uint64_t snapshots_applied = 0;
  uint64_t not_ready_replies = 0;    // the publisher had nothing yet
  uint64_t sequence_gaps = 0;
  uint64_t silent_episodes = 0;      // transitions into kSilent
  uint64_t highest_epoch = 0;        // highest coordinator epoch seen (applied or heartbeat)
  std::array<uint64_t, kDropReasonCount> dropped{};  // indexed by DropReason
  uint64_t dropped_for(DropReason reason) const { return dropped[static_cast<size_t>(reason)]; }
  uint64_t dropped_total() const;
};

class WeightSubscriber {
 public:
  // Subscribes, connects and starts the subscriber thread, which asks for the snapshot at
  // once. InvalidArgument for bad options or endpoints.
  static Result<std::unique_ptr<WeightSubscriber>> Start(zmq::context_t& context,
                                                         WeightSubscriberOptions options);
  ~WeightSubscriber();
  WeightSubscriber(const WeightSubscriber&) = delete;
  WeightSubscriber& operator=(const WeightSubscriber&) = delete;

  // Asks the thread to end without waiting (lets many subscribers stop in parallel).
  void RequestStop() { stop_requested_.store(true); }
  // Ends the thread, joins it and closes the sockets. Idempotent; the destructor calls it.
  void Stop();

  // The applied version; null until ready().
  std::shared_ptr<const AdapterVersion> latest() const;
  // True once a version was applied (from a snapshot or an update).
  bool ready() const { return ready_.load(); }
  PublisherState state() const { return static_cast<PublisherState>(state_.load()); }
  WeightSubscriberStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;

  WeightSubscriber(zmq::context_t& context, WeightSubscriberOptions options);
  Status Connect();
  void Run();
  void HandleBusMessage(std::vector<zmq::message_t>& frames, Clock::time_point now);
  void HandleUpdate(const wire::AdapterUpdate& update, Clock::time_point now);
  void HandleHeartbeat(const wire::Heartbeat& heartbeat, Clock::time_point now);
  void HandleSnapshotReply(std::vector<zmq::message_t>& frames);
  // Applies `adapter` when the fence accepts it; counts and logs a drop otherwise.
  std::optional<DropReason> TryApply(const AdapterVersion& adapter, const std::string& source);
  void Heard(Clock::time_point now);
  void CheckLiveness(Clock::time_point now);
  void MaybeRequestSnapshot(Clock::time_point now);
  void CountDrop(DropReason reason);
  void Log(const std::string& line) const;
  template <typename F>
  void UpdateStats(F&& change) {
    std::lock_guard<std::mutex> lock(mutex_);
    change(stats_);
  }

  WeightSubscriberOptions options_;
  std::chrono::milliseconds dead_after_;

  // Subscriber thread only (after Start).
  zmq::socket_t sub_;
  zmq::socket_t dealer_;
  VersionFence fence_;
  bool have_sequence_ = false;
  uint64_t last_sequence_ = 0;
  Clock::time_point last_heard_;
  bool snapshot_wanted_ = true;
  bool snapshot_outstanding_ = false;
  Clock::time_point snapshot_sent_at_;
  // (epoch, version) of a snapshot refused for integrity: not asked for again.
  std::optional<std::pair<uint64_t, uint64_t>> refused_snapshot_;

  // Shared with other threads.
  mutable std::mutex mutex_;  // guards latest_ and stats_
  std::shared_ptr<const AdapterVersion> latest_;
  WeightSubscriberStats stats_;
  std::atomic<bool> ready_{false};
  std::atomic<int> state_{static_cast<int>(PublisherState::kWaiting)};
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
  bool closed_ = false;  // Stop() ran; Stop() is for the owner's thread only
};

}  // namespace reflex::transport
