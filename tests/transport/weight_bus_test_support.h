// Helpers shared by the weight-bus tests: sealed adapters, bounded waits, a recorder for
// applied versions, a FakeBus (raw PUB + ROUTER the test drives frame by frame) and a Relay
// (a lossy hop between a publisher and a subscriber whose loss the test switches on and off).
// Every socket binds 127.0.0.1 on an ephemeral port and has LINGER 0.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "core/adapter_version.h"
#include "transport/weight_bus.h"
#include "transport/weight_publisher.h"
#include "transport/weight_subscriber.h"
#include "wire/codec.h"

namespace reflex::transport::testing {

constexpr AdapterDims kDims{4, 3};
constexpr std::chrono::milliseconds kFastHeartbeat{50};

// A sealed adapter whose weights depend on version and epoch.
inline AdapterVersion MakeAdapter(uint64_t version, uint64_t epoch, AdapterDims dims = kDims) {
  AdapterVersion adapter;
  adapter.version = version;
  adapter.parent = version > 0 ? version - 1 : 0;
  adapter.epoch = epoch;
  adapter.dims = dims;
  adapter.weights.resize(AdapterWeightCount(dims));
  for (size_t i = 0; i < adapter.weights.size(); ++i) {
    adapter.weights[i] = 0.001f * static_cast<float>(i) + 0.1f * version + 0.01f * epoch;
  }
  adapter.Seal();
  return adapter;
}

// Polls `done` every 5 ms until it holds or `timeout` passes; returns whether it held.
template <typename Predicate>
bool WaitUntil(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline WeightPublisherOptions FastPublisherOptions(uint64_t epoch = 1) {
  WeightPublisherOptions options;
  options.sender_id = "test-coordinator";
  options.epoch = epoch;
  options.heartbeat_interval = kFastHeartbeat;
  return options;
}

inline WeightSubscriberOptions FastSubscriberOptions(const std::string& publish_endpoint,
                                                     const std::string& snapshot_endpoint,
                                                     const std::string& id = "replica") {
  WeightSubscriberOptions options;
  options.subscriber_id = id;
  options.publish_endpoint = publish_endpoint;
  options.snapshot_endpoint = snapshot_endpoint;
  options.heartbeat_interval = kFastHeartbeat;
  options.heartbeat_misses = 3;
  options.snapshot_timeout = std::chrono::milliseconds(300);
  options.expected_dims = kDims;
  return options;
}

// Records (version, epoch) of every applied version, in order; safe from any thread.
class AppliedLog {
 public:
  std::function<void(const AdapterVersion&)> Callback() {
    return [this](const AdapterVersion& adapter) {
      std::lock_guard<std::mutex> lock(mutex_);
      applied_.emplace_back(adapter.version, adapter.epoch);
    };
  }
  std::vector<std::pair<uint64_t, uint64_t>> Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return applied_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<uint64_t, uint64_t>> applied_;
};

inline void SendTwoFrames(zmq::socket_t& socket, const std::string& topic, const std::string& body) {
  socket.send(zmq::buffer(topic), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(body), zmq::send_flags::none);
}

// A raw PUB and a never-answering ROUTER: the test writes exactly the frames a subscriber sees.
class FakeBus {
 public:
  explicit FakeBus(zmq::context_t& context)
      : pub_(context, zmq::socket_type::pub), router_(context, zmq::socket_type::router) {
    pub_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::linger, 0);
    pub_.bind("tcp://127.0.0.1:*");
    router_.bind("tcp://127.0.0.1:*");
  }
  std::string publish_endpoint() { return pub_.get(zmq::sockopt::last_endpoint); }
  std::string snapshot_endpoint() { return router_.get(zmq::sockopt::last_endpoint); }

  void SendUpdate(uint64_t sequence, const AdapterVersion& adapter) {
    SendTwoFrames(pub_, kAdapterTopic, wire::Encode(wire::AdapterUpdate{sequence, adapter}));
  }
  void SendHeartbeat(uint64_t epoch, uint64_t sequence, uint64_t latest_version) {
    wire::Heartbeat heartbeat{"fake-bus", epoch, sequence, latest_version, 0};
    SendTwoFrames(pub_, kHeartbeatTopic, wire::Encode(heartbeat));
  }
  void SendRaw(const std::string& topic, const std::string& body) { SendTwoFrames(pub_, topic, body); }

  // Sends heartbeats until `subscriber` has received one (its subscription has arrived).
  bool WaitForSubscription(const WeightSubscriber& subscriber, uint64_t epoch) {
    return WaitUntil(
        [&] {
          SendHeartbeat(epoch, 0, 0);
          return subscriber.stats().heartbeats_received > 0;
        },
        std::chrono::milliseconds(5000));
  }

 private:
  zmq::socket_t pub_;
  zmq::socket_t router_;
};

// Forwards everything from a publisher's PUB to its own PUB, except while dropping.
class Relay {
 public:
  Relay(zmq::context_t& context, const std::string& upstream)
      : in_(context, zmq::socket_type::sub), out_(context, zmq::socket_type::pub) {
    in_.set(zmq::sockopt::linger, 0);
    out_.set(zmq::sockopt::linger, 0);
    in_.set(zmq::sockopt::subscribe, "");
    in_.set(zmq::sockopt::rcvtimeo, 10);  // lets Run() see stop_
    in_.connect(upstream);
    out_.bind("tcp://127.0.0.1:*");
    endpoint_ = out_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Run(); });
  }
  ~Relay() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  void set_dropping(bool dropping) { dropping_.store(dropping); }
  uint64_t dropped_updates() const { return dropped_updates_.load(); }
  uint64_t dropped_heartbeats() const { return dropped_heartbeats_.load(); }

 private:
  void Run() {
    while (!stop_.load()) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(in_, std::back_inserter(frames))) continue;
      if (dropping_.load()) {
        const bool update = !frames.empty() && frames[0].to_string_view() == kAdapterTopic;
        (update ? dropped_updates_ : dropped_heartbeats_).fetch_add(1);
        continue;
      }
      zmq::send_multipart(out_, frames);
    }
  }
  zmq::socket_t in_;
  zmq::socket_t out_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> dropping_{false};
  std::atomic<uint64_t> dropped_updates_{0};
  std::atomic<uint64_t> dropped_heartbeats_{0};
  std::thread thread_;
};

}  // namespace reflex::transport::testing
