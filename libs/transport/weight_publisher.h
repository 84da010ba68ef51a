// WeightPublisher: the coordinator's end of the weight bus (weight_bus.h): the PUB socket that
// broadcasts every new adapter version plus heartbeats, and the ROUTER snapshot socket that
// hands the latest version to subscribers that join or fell behind.
//
// Ownership and threads: one publisher thread owns all three of its sockets (PUB, ROUTER and
// the receiving end of an inproc hand-off pipe); Publish() may be called from any thread and
// hands the encoded update to that thread through the pipe (guarded by a mutex), so the PUB
// stream and the snapshot socket always agree on the latest version: the snapshot never serves
// a version the bus has not sent yet. The publisher must be destroyed (or Stop()ped) before
// its zmq::context_t is closed.
//
// Never blocks on subscribers: the PUB drops messages for a subscriber whose queue is full
// (send_high_water_mark); such a subscriber sees a sequence gap or a heartbeat ahead of it and
// re-fetches the snapshot. Versions are published in (epoch, version) order (version_fence.h)
// and never with an epoch older than the publisher's own: subscribers would refuse them.
// Units: intervals in milliseconds; heartbeat times in Unix milliseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "core/adapter_version.h"
#include "core/status.h"
#include "transport/curve_keys.h"
#include "transport/weight_bus.h"
#include "wire/codec.h"

namespace reflex::transport {

struct WeightPublisherOptions {
  std::string sender_id = "coordinator";  // named in heartbeats
  uint64_t epoch = 0;                     // this coordinator's epoch, advertised in heartbeats
  std::string publish_endpoint = "tcp://127.0.0.1:*";   // PUB binds here
  std::string snapshot_endpoint = "tcp://127.0.0.1:*";  // ROUTER binds here
  std::chrono::milliseconds heartbeat_interval = kDefaultHeartbeatInterval;
  int send_high_water_mark = 1000;  // messages queued per subscriber before the PUB drops
  std::optional<CurveServerConfig> curve;  // CURVE server on PUB and ROUTER when set
  wire::Limits limits;                     // applied to snapshot requests
  std::function<void(const std::string&)> log;  // called on the publisher thread; may be empty
};

struct WeightPublisherStats {
  uint64_t published = 0;          // updates sent on the bus
  uint64_t heartbeats_sent = 0;
  uint64_t snapshot_requests = 0;  // well-formed requests answered
  uint64_t snapshots_sent = 0;     // of those, answered with a version
  uint64_t not_ready_replies = 0;  // of those, answered kNotReady (nothing published yet)
  uint64_t bad_requests = 0;       // malformed frames on the snapshot socket
};

class WeightPublisher {
 public:
  // Binds both sockets and starts the publisher thread; the first heartbeat goes out at once.
  // Unavailable naming the endpoint when a bind fails; InvalidArgument for bad options.
  static Result<std::unique_ptr<WeightPublisher>> Start(zmq::context_t& context,
                                                        WeightPublisherOptions options);
  ~WeightPublisher();
  WeightPublisher(const WeightPublisher&) = delete;
  WeightPublisher& operator=(const WeightPublisher&) = delete;

  // Assigns the next bus sequence to `adapter` and queues it for the bus; returns the
  // sequence. Does not wait for the network. InvalidArgument/Corruption when the version fails
  // Verify(); FailedPrecondition when it is not newer than the last one published, when its
  // epoch is older than the publisher's, or after Stop().
  Result<uint64_t> Publish(const AdapterVersion& adapter);

  // Stops the thread and closes the sockets. Idempotent; the destructor calls it.
  void Stop();

  // Resolved endpoints ("tcp://127.0.0.1:40123"), for subscribers to connect to.
  const std::string& publish_endpoint() const { return publish_endpoint_; }
  const std::string& snapshot_endpoint() const { return snapshot_endpoint_; }

  uint64_t last_sequence() const;
  WeightPublisherStats stats() const;

 private:
  WeightPublisher(zmq::context_t& context, WeightPublisherOptions options);
  Status Bind();
  void Run();
  // Returns false when the pipe said stop.
  bool TakeFromPipe();
  void AnswerSnapshotRequest();
  void SendHeartbeat();
  void Log(const std::string& line) const;

  WeightPublisherOptions options_;
  std::string publish_endpoint_;
  std::string snapshot_endpoint_;

  // Publisher thread only (after Start).
  zmq::socket_t pub_;
  zmq::socket_t router_;
  zmq::socket_t pipe_in_;
  std::string latest_frame_;  // Encode(AdapterUpdate) of the newest version sent; empty if none
  uint64_t sent_sequence_ = 0;
  uint64_t sent_version_ = 0;
  uint64_t sent_epoch_ = 0;

  // Callers of Publish(); guarded by mutex_.
  mutable std::mutex mutex_;
  zmq::socket_t pipe_out_;
  bool stopped_ = false;
  bool has_published_ = false;
  uint64_t last_sequence_ = 0;
  uint64_t last_epoch_ = 0;
  uint64_t last_version_ = 0;

  struct Counters {
    std::atomic<uint64_t> published{0}, heartbeats_sent{0}, snapshot_requests{0},
        snapshots_sent{0}, not_ready_replies{0}, bad_requests{0};
  } counters_;
  std::thread thread_;
};

}  // namespace reflex::transport
