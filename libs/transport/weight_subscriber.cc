#include "transport/weight_subscriber.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <zmq_addon.hpp>

namespace reflex::transport {
namespace {

constexpr size_t kMaxDrainPerWake = 256;
constexpr std::chrono::milliseconds kMaxTick{25};

// How a frame the codec refused is counted. The codec itself checks an adapter record's weight
// count against its dims (kInvalidArgument) and its weights' finiteness (kNonFinite); anything
// else means the frame is not a well-formed message at all.
DropReason DropReasonForDecodeError(wire::ErrorCode code) {
  switch (code) {
    case wire::ErrorCode::kNonFinite: return DropReason::kNonFinite;
    case wire::ErrorCode::kInvalidArgument: return DropReason::kWrongDims;
    default: return DropReason::kMalformed;
  }
}

std::string VersionText(uint64_t version, uint64_t epoch) {
  return "version " + std::to_string(version) + " (epoch " + std::to_string(epoch) + ")";
}

}  // namespace

const char* PublisherStateName(PublisherState state) {
  switch (state) {
    case PublisherState::kWaiting: return "waiting";
    case PublisherState::kLive: return "live";
    case PublisherState::kSilent: return "silent";
  }
  return "unknown";
}

uint64_t WeightSubscriberStats::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t count : dropped) total += count;
  return total;
}

Result<std::unique_ptr<WeightSubscriber>> WeightSubscriber::Start(zmq::context_t& context,
                                                                  WeightSubscriberOptions options) {
  if (options.publish_endpoint.empty() || options.snapshot_endpoint.empty()) {
    return Status::InvalidArgument("weight subscriber " + options.subscriber_id +
                                   ": publish_endpoint and snapshot_endpoint are required");
  }
  if (options.heartbeat_interval.count() <= 0 || options.heartbeat_misses < 1 ||
      options.snapshot_timeout.count() <= 0) {
    return Status::InvalidArgument("weight subscriber " + options.subscriber_id +
                                   ": heartbeat_interval and snapshot_timeout must be positive "
                                   "and heartbeat_misses at least 1");
  }
  std::unique_ptr<WeightSubscriber> subscriber;
  try {
    subscriber.reset(new WeightSubscriber(context, std::move(options)));
  } catch (const zmq::error_t& error) {
    return Status::Internal(std::string("weight subscriber: creating sockets: ") + error.what());
  }
  Status connected = subscriber->Connect();
  if (!connected.ok()) return connected;
  // Sockets were set up on this thread; the thread start is a full barrier, after which only
  // the subscriber thread touches them.
  subscriber->thread_ = std::thread([raw = subscriber.get()] { raw->Run(); });
  return subscriber;
}

WeightSubscriber::WeightSubscriber(zmq::context_t& context, WeightSubscriberOptions options)
    : options_(std::move(options)),
      dead_after_(options_.heartbeat_interval * options_.heartbeat_misses),
      sub_(context, zmq::socket_type::sub),
      dealer_(context, zmq::socket_type::dealer),
      fence_(options_.expected_dims) {
  const auto max_bytes = static_cast<int64_t>(options_.limits.max_message_bytes);
  for (zmq::socket_t* socket : {&sub_, &dealer_}) {
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::maxmsgsize, max_bytes);
  }
}

Status WeightSubscriber::Connect() {
  const std::string who = "weight subscriber " + options_.subscriber_id;
  if (options_.curve) {
    REFLEX_RETURN_IF_ERROR(
        ApplyCurveClient(sub_, options_.curve->client, options_.curve->server_public)
            .WithContext(who + " SUB"));
    REFLEX_RETURN_IF_ERROR(
        ApplyCurveClient(dealer_, options_.curve->client, options_.curve->server_public)
            .WithContext(who + " DEALER"));
  }
  try {
    // Subscribe first (Clone pattern): nothing published after the snapshot can be missed.
    sub_.set(zmq::sockopt::subscribe, kAdapterTopic);
    sub_.set(zmq::sockopt::subscribe, kHeartbeatTopic);
    sub_.connect(options_.publish_endpoint);
  } catch (const zmq::error_t& error) {
    return Status::InvalidArgument(who + ": cannot connect to " + options_.publish_endpoint +
                                   ": " + error.what());
  }
  try {
    dealer_.connect(options_.snapshot_endpoint);
  } catch (const zmq::error_t& error) {
    return Status::InvalidArgument(who + ": cannot connect to " + options_.snapshot_endpoint +
                                   ": " + error.what());
  }
  return Status::Ok();
}

WeightSubscriber::~WeightSubscriber() { Stop(); }

void WeightSubscriber::Stop() {
  if (closed_) return;
  closed_ = true;
  RequestStop();
  if (thread_.joinable()) thread_.join();
  sub_.close();
  dealer_.close();
}

std::shared_ptr<const AdapterVersion> WeightSubscriber::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}

WeightSubscriberStats WeightSubscriber::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void WeightSubscriber::Log(const std::string& line) const {
  if (options_.log) options_.log("weight subscriber " + options_.subscriber_id + ": " + line);
}

void WeightSubscriber::CountDrop(DropReason reason) {
  UpdateStats([reason](WeightSubscriberStats& s) { ++s.dropped[static_cast<size_t>(reason)]; });
}

void WeightSubscriber::Run() {
  zmq::pollitem_t items[] = {{sub_.handle(), 0, ZMQ_POLLIN, 0},
                             {dealer_.handle(), 0, ZMQ_POLLIN, 0}};
  const auto tick = std::max(std::chrono::milliseconds(1),
                             std::min(kMaxTick, options_.heartbeat_interval / 4));
  last_heard_ = Clock::now();
  try {
    while (!stop_requested_.load()) {
      MaybeRequestSnapshot(Clock::now());
      zmq::poll(items, 2, tick);
      for (size_t i = 0; i < kMaxDrainPerWake && (items[0].revents & ZMQ_POLLIN); ++i) {
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(sub_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        HandleBusMessage(frames, Clock::now());
      }
      for (size_t i = 0; i < kMaxDrainPerWake && (items[1].revents & ZMQ_POLLIN); ++i) {
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(dealer_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
          break;
        }
        HandleSnapshotReply(frames);
      }
      CheckLiveness(Clock::now());
    }
  } catch (const zmq::error_t& error) {
    Log(std::string("thread stops: ") + error.what());
  }
}

void WeightSubscriber::HandleBusMessage(std::vector<zmq::message_t>& frames,
                                        Clock::time_point now) {
  if (frames.size() != 2) {
    CountDrop(DropReason::kMalformed);
    Log("bus message with " + std::to_string(frames.size()) + " frames dropped (expected 2)");
    return;
  }
  const std::string topic = frames[0].to_string();
  const wire::Decoded decoded = wire::Decode(frames[1].data(), frames[1].size(), options_.limits);
  if (!decoded.ok()) {
    const DropReason reason = DropReasonForDecodeError(decoded.error.code);
    CountDrop(reason);
    Log("'" + topic + "' message dropped (" + DropReasonName(reason) + "): " +
        decoded.error.message);
    return;
  }
  if (topic == kAdapterTopic && std::holds_alternative<wire::AdapterUpdate>(*decoded.message)) {
    HandleUpdate(std::get<wire::AdapterUpdate>(*decoded.message), now);
  } else if (topic == kHeartbeatTopic &&
             std::holds_alternative<wire::Heartbeat>(*decoded.message)) {
    HandleHeartbeat(std::get<wire::Heartbeat>(*decoded.message), now);
  } else {
    CountDrop(DropReason::kMalformed);
    Log("'" + topic + "' message carrying " +
        wire::MessageTypeName(wire::TypeOf(*decoded.message)) + " dropped");
  }
}

void WeightSubscriber::HandleUpdate(const wire::AdapterUpdate& update, Clock::time_point now) {
  UpdateStats([](WeightSubscriberStats& s) { ++s.updates_received; });
  if (update.adapter.epoch >= fence_.highest_epoch()) Heard(now);
  const std::optional<DropReason> dropped =
      TryApply(update.adapter, "bus update " + std::to_string(update.sequence));
  // Only updates of the stream this subscriber follows move its sequence mark: accepted ones
  // (even a restarted publisher's lower sequence defines where the stream is now), and
  // duplicates or older versions of it. A fenced, damaged or forged update says nothing about
  // that stream; letting its sequence (say 10^6) move the mark would blind gap detection and
  // make later real heartbeats look "not behind".
  const bool in_stream =
      !dropped || *dropped == DropReason::kDuplicate || *dropped == DropReason::kStaleVersion;
  if (!in_stream) return;
  if (have_sequence_ && update.sequence > last_sequence_ + 1) {
    UpdateStats([](WeightSubscriberStats& s) { ++s.sequence_gaps; });
    Log("bus sequence gap: got " + std::to_string(update.sequence) + " after " +
        std::to_string(last_sequence_) + "; fetching a snapshot");
    snapshot_wanted_ = true;
  }
  last_sequence_ = !dropped ? update.sequence : std::max(last_sequence_, update.sequence);
  have_sequence_ = true;
}

void WeightSubscriber::HandleHeartbeat(const wire::Heartbeat& heartbeat, Clock::time_point now) {
  UpdateStats([](WeightSubscriberStats& s) { ++s.heartbeats_received; });
  if (!fence_.ObserveEpoch(heartbeat.epoch)) {
    UpdateStats([](WeightSubscriberStats& s) { ++s.stale_heartbeats; });
    Log("heartbeat from " + heartbeat.sender_id + " of fenced epoch " +
        std::to_string(heartbeat.epoch) + " ignored");
    return;
  }
  UpdateStats([epoch = fence_.highest_epoch()](WeightSubscriberStats& s) { s.highest_epoch = epoch; });
  Heard(now);
  if (heartbeat.sequence == 0) return;  // the publisher has nothing yet
  const auto advertised = std::make_pair(heartbeat.epoch, heartbeat.latest_version);
  const bool behind_in_sequence = !have_sequence_ || heartbeat.sequence > last_sequence_;
  const bool behind_in_version = fence_.IsNewer(heartbeat.epoch, heartbeat.latest_version);
  if ((behind_in_sequence || behind_in_version) && refused_snapshot_ != advertised) {
    snapshot_wanted_ = true;
  }
}

void WeightSubscriber::HandleSnapshotReply(std::vector<zmq::message_t>& frames) {
  snapshot_outstanding_ = false;
  UpdateStats([](WeightSubscriberStats& s) { ++s.snapshot_replies; });
  if (frames.size() != 1) {
    CountDrop(DropReason::kMalformed);
    Log("snapshot reply with " + std::to_string(frames.size()) + " frames dropped");
    return;
  }
  const wire::Decoded decoded = wire::Decode(frames[0].data(), frames[0].size(), options_.limits);
  if (!decoded.ok()) {
    const DropReason reason = DropReasonForDecodeError(decoded.error.code);
    CountDrop(reason);
    Log(std::string("snapshot reply dropped (") + DropReasonName(reason) + "): " +
        decoded.error.message);
    return;
  }
  if (const auto* reply = std::get_if<wire::ControlReply>(&*decoded.message)) {
    if (reply->error == wire::ErrorCode::kNotReady) {
      // Nothing published yet: the first update or a heartbeat with a sequence brings it.
      UpdateStats([](WeightSubscriberStats& s) { ++s.not_ready_replies; });
    } else {
      Log(std::string("snapshot refused: ") + wire::ErrorCodeName(reply->error) + ": " +
          reply->message);
    }
    return;
  }
  const auto* update = std::get_if<wire::AdapterUpdate>(&*decoded.message);
  if (update == nullptr) {
    CountDrop(DropReason::kMalformed);
    Log(std::string("snapshot reply carrying ") +
        wire::MessageTypeName(wire::TypeOf(*decoded.message)) + " dropped");
    return;
  }
  const uint64_t previous_epoch = fence_.applied_epoch();
  const std::optional<DropReason> dropped = TryApply(update->adapter, "snapshot");
  if (!dropped) {
    UpdateStats([](WeightSubscriberStats& s) { ++s.snapshots_applied; });
  } else if (*dropped != DropReason::kDuplicate && *dropped != DropReason::kStaleVersion) {
    refused_snapshot_ = std::make_pair(update->adapter.epoch, update->adapter.version);
  }
  // A snapshot of a newer coordinator epoch restarts the sequence; otherwise never go back.
  const bool new_epoch = !dropped && update->adapter.epoch > previous_epoch;
  last_sequence_ = new_epoch ? update->sequence : std::max(last_sequence_, update->sequence);
  have_sequence_ = true;
}

std::optional<DropReason> WeightSubscriber::TryApply(const AdapterVersion& adapter,
                                                     const std::string& source) {
  std::string why;
  const std::optional<DropReason> reason = fence_.Check(adapter, &why);
  if (reason) {
    CountDrop(*reason);
    if (*reason != DropReason::kDuplicate) {
      Log(source + " dropped (" + DropReasonName(*reason) + "): " + why);
    }
    return reason;
  }
  fence_.Applied(adapter);
  auto applied = std::make_shared<const AdapterVersion>(adapter);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_ = applied;
    ++stats_.applied;
    stats_.highest_epoch = fence_.highest_epoch();
  }
  ready_.store(true);
  if (options_.on_apply) options_.on_apply(*applied);
  return std::nullopt;
}

void WeightSubscriber::Heard(Clock::time_point now) {
  last_heard_ = now;
  const auto previous = static_cast<PublisherState>(state_.exchange(static_cast<int>(PublisherState::kLive)));
  if (previous == PublisherState::kSilent) {
    Log("publisher is back; fetching a snapshot");
    snapshot_wanted_ = true;
  }
}

void WeightSubscriber::CheckLiveness(Clock::time_point now) {
  if (state() == PublisherState::kSilent || now - last_heard_ <= dead_after_) return;
  state_.store(static_cast<int>(PublisherState::kSilent));
  UpdateStats([](WeightSubscriberStats& s) { ++s.silent_episodes; });
  const auto silent_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard_).count();
  Log("publisher silent for " + std::to_string(silent_ms) + " ms; keeping " +
      (fence_.has_applied()
           ? "adapter " + VersionText(fence_.applied_version(), fence_.applied_epoch())
           : std::string("no version (none applied yet)")));
}

void WeightSubscriber::MaybeRequestSnapshot(Clock::time_point now) {
  if (snapshot_outstanding_) {
    if (now - snapshot_sent_at_ < options_.snapshot_timeout) return;
    snapshot_outstanding_ = false;  // no reply in time: ask again
    snapshot_wanted_ = true;
  }
  // While the publisher is silent, requests would only queue up; its return triggers one.
  if (!snapshot_wanted_ || state() == PublisherState::kSilent) return;
  const std::string request = wire::Encode(wire::SnapshotRequest{options_.subscriber_id});
  if (!dealer_.send(zmq::buffer(request), zmq::send_flags::dontwait)) return;  // not connected yet
  snapshot_wanted_ = false;
  snapshot_outstanding_ = true;
  snapshot_sent_at_ = now;
  UpdateStats([](WeightSubscriberStats& s) { ++s.snapshots_requested; });
}

}  // namespace reflex::transport
