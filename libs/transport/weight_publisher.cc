#include "transport/weight_publisher.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include <zmq_addon.hpp>

namespace reflex::transport {
namespace {

constexpr char kPipeUpdate[] = "U";
constexpr char kPipeStop[] = "S";
constexpr size_t kMaxDrainPerWake = 256;  // snapshot requests answered before checking timers

std::string UniquePipeEndpoint() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://reflex-weight-publisher-" + std::to_string(counter.fetch_add(1));
}

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Binds and returns the resolved endpoint ("tcp://127.0.0.1:40123").
Result<std::string> BindResolved(zmq::socket_t& socket, const std::string& endpoint,
                                 const char* what) {
  try {
    socket.bind(endpoint);
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& error) {
    return Status::Unavailable(std::string("weight publisher ") + what + " cannot bind " +
                               endpoint + ": " + error.what());
  }
}

}  // namespace

Result<std::unique_ptr<WeightPublisher>> WeightPublisher::Start(zmq::context_t& context,
                                                                WeightPublisherOptions options) {
  if (options.heartbeat_interval.count() <= 0) {
    return Status::InvalidArgument("weight publisher: heartbeat_interval must be positive");
  }
  std::unique_ptr<WeightPublisher> publisher;
  try {
    publisher.reset(new WeightPublisher(context, std::move(options)));
  } catch (const zmq::error_t& error) {
    return Status::Internal(std::string("weight publisher: creating sockets: ") + error.what());
  }
  Status bound = publisher->Bind();
  if (!bound.ok()) return bound;
  // Sockets were set up on this thread; the thread start is a full barrier, after which only
  // the publisher thread touches pub_, router_ and pipe_in_.
  publisher->thread_ = std::thread([raw = publisher.get()] { raw->Run(); });
  return publisher;
}

WeightPublisher::WeightPublisher(zmq::context_t& context, WeightPublisherOptions options)
    : options_(std::move(options)),
      pub_(context, zmq::socket_type::pub),
      router_(context, zmq::socket_type::router),
      pipe_in_(context, zmq::socket_type::pull),
      pipe_out_(context, zmq::socket_type::push) {
  for (zmq::socket_t* socket : {&pub_, &router_, &pipe_in_, &pipe_out_}) {
    socket->set(zmq::sockopt::linger, 0);
  }
  pub_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
  router_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
  router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.limits.max_message_bytes));
  // The hand-off pipe never drops: Publish() must not lose a sequence number.
  pipe_in_.set(zmq::sockopt::rcvhwm, 0);
  pipe_out_.set(zmq::sockopt::sndhwm, 0);
}

Status WeightPublisher::Bind() {
  if (options_.curve) {
    REFLEX_RETURN_IF_ERROR(ApplyCurveServer(pub_, options_.curve->server)
                               .WithContext("weight publisher PUB"));
    REFLEX_RETURN_IF_ERROR(ApplyCurveServer(router_, options_.curve->server)
                               .WithContext("weight publisher snapshot ROUTER"));
  }
  Result<std::string> pub = BindResolved(pub_, options_.publish_endpoint, "PUB");
  if (!pub.ok()) return pub.status();
  Result<std::string> router = BindResolved(router_, options_.snapshot_endpoint, "snapshot ROUTER");
  if (!router.ok()) return router.status();
  publish_endpoint_ = *pub;
  snapshot_endpoint_ = *router;
  const std::string pipe = UniquePipeEndpoint();
  try {
    pipe_in_.bind(pipe);
    pipe_out_.connect(pipe);
  } catch (const zmq::error_t& error) {
    return Status::Internal("weight publisher: hand-off pipe " + pipe + ": " + error.what());
  }
  return Status::Ok();
}

WeightPublisher::~WeightPublisher() { Stop(); }

Result<uint64_t> WeightPublisher::Publish(const AdapterVersion& adapter) {
  const Status verified = adapter.Verify();
  if (!verified.ok()) return verified.WithContext("weight publisher refuses to publish");
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string where = "weight publisher: adapter version " + std::to_string(adapter.version) +
                            " (epoch " + std::to_string(adapter.epoch) + ")";
  if (stopped_) return Status::FailedPrecondition(where + ": publisher is stopped");
  if (adapter.epoch < options_.epoch) {
    return Status::FailedPrecondition(where + ": epoch is older than this publisher's epoch " +
                                      std::to_string(options_.epoch) +
                                      "; subscribers would fence it (re-stamp it as a new version)");
  }
  if (has_published_ && !(adapter.epoch > last_epoch_ ||
                          (adapter.epoch == last_epoch_ && adapter.version > last_version_))) {
    return Status::FailedPrecondition(where + ": not newer than the last published version " +
                                      std::to_string(last_version_) + " (epoch " +
                                      std::to_string(last_epoch_) + ")");
  }
  const uint64_t sequence = last_sequence_ + 1;
  const std::string frame = wire::Encode(wire::AdapterUpdate{sequence, adapter});
  uint64_t meta[3] = {sequence, adapter.version, adapter.epoch};
  try {
    pipe_out_.send(zmq::buffer(kPipeUpdate, 1), zmq::send_flags::sndmore);
    pipe_out_.send(zmq::buffer(meta, sizeof(meta)), zmq::send_flags::sndmore);
    pipe_out_.send(zmq::buffer(frame), zmq::send_flags::none);
  } catch (const zmq::error_t& error) {
    return Status::Internal(where + ": hand-off to the publisher thread: " + error.what());
  }
  has_published_ = true;
  last_sequence_ = sequence;
  last_epoch_ = adapter.epoch;
  last_version_ = adapter.version;
  return sequence;
}

void WeightPublisher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    if (thread_.joinable()) {
      try {
        pipe_out_.send(zmq::buffer(kPipeStop, 1), zmq::send_flags::none);
      } catch (const zmq::error_t&) {
        // ETERM: the thread ends by itself.
      }
    }
  }
  if (thread_.joinable()) thread_.join();
  pub_.close();
  router_.close();
  pipe_in_.close();
  pipe_out_.close();
}

uint64_t WeightPublisher::last_sequence() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_sequence_;
}

WeightPublisherStats WeightPublisher::stats() const {
  WeightPublisherStats stats;
  stats.published = counters_.published.load();
  stats.heartbeats_sent = counters_.heartbeats_sent.load();
  stats.snapshot_requests = counters_.snapshot_requests.load();
  stats.snapshots_sent = counters_.snapshots_sent.load();
  stats.not_ready_replies = counters_.not_ready_replies.load();
  stats.bad_requests = counters_.bad_requests.load();
  return stats;
}

void WeightPublisher::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void WeightPublisher::Run() {
  using Clock = std::chrono::steady_clock;
  zmq::pollitem_t items[] = {{pipe_in_.handle(), 0, ZMQ_POLLIN, 0},
                             {router_.handle(), 0, ZMQ_POLLIN, 0}};
  Clock::time_point next_heartbeat = Clock::now();
  try {
    while (true) {
      Clock::time_point now = Clock::now();
      if (now >= next_heartbeat) {
        SendHeartbeat();
        next_heartbeat += options_.heartbeat_interval;
        if (next_heartbeat <= now) next_heartbeat = now + options_.heartbeat_interval;
      }
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat - now) +
          std::chrono::milliseconds(1);
      zmq::poll(items, 2, wait);
      if (items[0].revents & ZMQ_POLLIN) {
        if (!TakeFromPipe()) return;
      }
      if (items[1].revents & ZMQ_POLLIN) AnswerSnapshotRequest();
    }
  } catch (const zmq::error_t& error) {
    Log(std::string("weight publisher thread stops: ") + error.what());
  }
}

bool WeightPublisher::TakeFromPipe() {
  for (size_t i = 0; i < kMaxDrainPerWake; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(pipe_in_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return true;
    }
    if (frames.empty() || frames[0].to_string_view() == kPipeStop) return false;
    if (frames.size() != 3 || frames[1].size() != 3 * sizeof(uint64_t)) {
      Log("weight publisher: malformed hand-off message ignored");  // a bug in Publish()
      continue;
    }
    uint64_t meta[3];
    std::memcpy(meta, frames[1].data(), sizeof(meta));
    sent_sequence_ = meta[0];
    sent_version_ = meta[1];
    sent_epoch_ = meta[2];
    latest_frame_ = frames[2].to_string();
    // PUB never blocks: at the high-water mark it drops for that subscriber.
    pub_.send(zmq::buffer(kAdapterTopic, sizeof(kAdapterTopic) - 1), zmq::send_flags::sndmore);
    pub_.send(zmq::buffer(latest_frame_), zmq::send_flags::dontwait);
    counters_.published.fetch_add(1);
  }
  return true;
}

void WeightPublisher::AnswerSnapshotRequest() {
  for (size_t i = 0; i < kMaxDrainPerWake; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    if (frames.size() < 2) {  // ROUTER always prepends the peer's identity
      counters_.bad_requests.fetch_add(1);
      continue;
    }
    std::string reply;
    const wire::Decoded decoded = wire::Decode(frames[1].data(), frames[1].size(), options_.limits);
    if (frames.size() != 2 || !decoded.ok() ||
        !std::holds_alternative<wire::SnapshotRequest>(*decoded.message)) {
      counters_.bad_requests.fetch_add(1);
      wire::ControlReply error;
      error.error = decoded.ok() ? wire::ErrorCode::kInvalidArgument : decoded.error.code;
      error.message = frames.size() != 2 ? "snapshot request must be one frame"
                      : decoded.ok()     ? "snapshot socket only answers SnapshotRequest"
                                         : "snapshot request: " + decoded.error.message;
      reply = wire::Encode(error);
    } else if (latest_frame_.empty()) {
      counters_.snapshot_requests.fetch_add(1);
      counters_.not_ready_replies.fetch_add(1);
      wire::ControlReply not_ready;
      not_ready.error = wire::ErrorCode::kNotReady;
      not_ready.message = "weight publisher " + options_.sender_id + " has published no version yet";
      reply = wire::Encode(not_ready);
    } else {
      counters_.snapshot_requests.fetch_add(1);
      counters_.snapshots_sent.fetch_add(1);
      reply = latest_frame_;
    }
    // ROUTER drops (does not block) when the peer is gone or its queue is full.
    router_.send(frames[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_.send(zmq::buffer(reply), zmq::send_flags::dontwait);
  }
}

void WeightPublisher::SendHeartbeat() {
  wire::Heartbeat heartbeat;
  heartbeat.sender_id = options_.sender_id;
  heartbeat.epoch = std::max(options_.epoch, sent_epoch_);
  heartbeat.sequence = sent_sequence_;
  heartbeat.latest_version = sent_version_;
  heartbeat.unix_ms = UnixMillis();
  const std::string frame = wire::Encode(heartbeat);
  pub_.send(zmq::buffer(kHeartbeatTopic, sizeof(kHeartbeatTopic) - 1), zmq::send_flags::sndmore);
  pub_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  counters_.heartbeats_sent.fetch_add(1);
}

}  // namespace reflex::transport
