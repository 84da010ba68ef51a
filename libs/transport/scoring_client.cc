#include "transport/scoring_client.h"

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

namespace reflex::transport {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t NowUnixUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

milliseconds Until(Clock::time_point t) {
  auto left = std::chrono::duration_cast<milliseconds>(t - Clock::now());
  return std::max(left, milliseconds(0));
}

bool Retryable(wire::ErrorCode code) {
  return code == wire::ErrorCode::kOverloaded || code == wire::ErrorCode::kNotReady;
}

// The id, error and message every reply type carries; nullopt for a message that is no reply.
struct ReplyHead {
  uint64_t request_id;
  wire::ErrorCode error;
  std::string message;
};
std::optional<ReplyHead> HeadOf(const wire::Message& message) {
  if (auto* r = std::get_if<wire::ScoreReply>(&message)) return ReplyHead{r->request_id, r->error, r->message};
  if (auto* r = std::get_if<wire::LabelAck>(&message)) return ReplyHead{r->request_id, r->error, r->message};
  if (auto* r = std::get_if<wire::SchemaReply>(&message)) return ReplyHead{r->request_id, r->error, r->message};
  return std::nullopt;
}

}  // namespace

struct ScoringClient::Replica {
  std::string endpoint;
  std::optional<zmq::socket_t> socket;   // closed after a timeout (Lazy Pirate), reopened on use
  Clock::time_point down_until{};        // skipped until then after a failure
};

ScoringClient::ScoringClient(ScoringClientOptions options) : options_(std::move(options)) {
  for (const std::string& endpoint : options_.endpoints) {
    auto replica = std::make_unique<Replica>();
    replica->endpoint = endpoint;
    replicas_.push_back(std::move(replica));
  }
  // Ids start at a random point so that two clients' ids rarely collide in a server's logs.
  std::random_device random;
  next_id_ = ((uint64_t{random()} << 32) ^ random()) | 1;
  next_replica_ = random() % replicas_.size();
}

ScoringClient::~ScoringClient() {
  for (auto& replica : replicas_) replica->socket.reset();
  context_.close();
}

Result<std::unique_ptr<ScoringClient>> ScoringClient::Create(ScoringClientOptions options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("ScoringClient: no endpoints");
  if (options.max_attempts < 1) return Status::InvalidArgument("ScoringClient: max_attempts must be >= 1");
  std::unique_ptr<ScoringClient> client(new ScoringClient(std::move(options)));
  // Connect now: a malformed endpoint fails here, and the first request finds its peers ready.
  for (auto& replica : client->replicas_) REFLEX_RETURN_IF_ERROR(client->Open(*replica));
  return client;
}

Status ScoringClient::Open(Replica& replica) {
  try {
    replica.socket.emplace(context_, zmq::socket_type::dealer);
    zmq::socket_t& s = *replica.socket;
    s.set(zmq::sockopt::linger, 0);
    // Only queue a message on a connected pipe: a replica that is down makes send wait (and the
    // try fail fast) instead of silently holding the request until it comes back.
    s.set(zmq::sockopt::immediate, 1);
    if (options_.curve) {
      Status curve = ApplyCurveClient(s, options_.curve->client, options_.curve->server_public);
      if (!curve.ok()) {
        replica.socket.reset();
        return curve.WithContext("ScoringClient: CURVE for " + replica.endpoint);
      }
    }
    s.connect(replica.endpoint);
  } catch (const zmq::error_t& e) {
    replica.socket.reset();
    return Status::InvalidArgument("ScoringClient: connect " + replica.endpoint + ": " + e.what());
  }
  return Status::Ok();
}

size_t ScoringClient::PickReplica() {
  const auto now = Clock::now();
  const size_t n = replicas_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (next_replica_ + k) % n;
    if (replicas_[i]->down_until <= now) {
      next_replica_ = (i + 1) % n;
      return i;
    }
  }
  // Every replica is marked down: try them in turn anyway.
  const size_t i = next_replica_;
  next_replica_ = (i + 1) % n;
  return i;
}

Result<wire::Message> ScoringClient::Exchange(Replica& replica, const std::string& frame,
                                              uint64_t request_id, Clock::time_point attempt_deadline) {
  if (!replica.socket) REFLEX_RETURN_IF_ERROR(Open(replica));
  zmq::socket_t& s = *replica.socket;
  try {
    // Wait until the replica is connected (ZMQ_IMMEDIATE makes POLLOUT mean "a peer is there").
    zmq::pollitem_t out_item{s.handle(), 0, ZMQ_POLLOUT, 0};
    const auto connect_deadline = std::min(attempt_deadline, Clock::now() + options_.connect_timeout);
    zmq::poll(&out_item, 1, Until(connect_deadline));
    if (!(out_item.revents & ZMQ_POLLOUT)) {
      replica.socket.reset();
      return Status::Unavailable(replica.endpoint + ": not connected");
    }
    if (!s.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
      replica.socket.reset();
      return Status::Unavailable(replica.endpoint + ": send would block");
    }
    for (;;) {
      zmq::pollitem_t in_item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&in_item, 1, Until(attempt_deadline));
      if (!(in_item.revents & ZMQ_POLLIN)) {
        replica.socket.reset();  // Lazy Pirate: a late reply must not reach a later request
        return Status::DeadlineExceeded(replica.endpoint + ": no reply");
      }
      zmq::message_t message;
      if (!s.recv(message, zmq::recv_flags::dontwait)) continue;
      while (message.more()) {  // a one-frame protocol: skip anything else (ends with the last)
        if (!s.recv(message, zmq::recv_flags::dontwait)) break;
      }
      wire::Decoded decoded = wire::Decode(message.data(), message.size(), options_.reply_limits);
      if (!decoded.ok()) {
        replica.socket.reset();
        return Status::Corruption(replica.endpoint + ": undecodable reply: " + decoded.error.message);
      }
      const std::optional<ReplyHead> head = HeadOf(*decoded.message);
      if (head && head->request_id == request_id) return std::move(*decoded.message);
      // A reply to an earlier request (or an error reply the server could not address): skip.
    }
  } catch (const zmq::error_t& e) {
    replica.socket.reset();
    return Status::Unavailable(replica.endpoint + ": " + e.what());
  }
}

Result<wire::Message> ScoringClient::Call(const std::string& frame, uint64_t request_id,
                                          Clock::time_point deadline) {
  std::optional<wire::Message> last_reply;
  Status last_error = Status::DeadlineExceeded("no try made");
  milliseconds backoff = options_.backoff_initial;
  int attempts = 0;
  for (; attempts < options_.max_attempts; ++attempts) {
    if (attempts > 0) {
      retries_++;
      const auto wake = std::min(deadline, Clock::now() + backoff);
      std::this_thread::sleep_until(wake);
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    if (Clock::now() >= deadline) break;
    Replica& replica = *replicas_[PickReplica()];
    const auto attempt_deadline = std::min(deadline, Clock::now() + options_.attempt_timeout);
    Result<wire::Message> got = Exchange(replica, frame, request_id, attempt_deadline);
    if (!got.ok()) {
      replica.down_until = Clock::now() + options_.down_time;
      last_error = got.status();
      continue;
    }
    replica.down_until = Clock::time_point{};
    if (!Retryable(HeadOf(*got)->error)) return got;
    last_reply = std::move(got.value());  // shed or not ready: another replica may do better
  }
  if (last_reply) return std::move(*last_reply);
  return Status::DeadlineExceeded("scoring request " + std::to_string(request_id) + ": no reply from " +
                                  std::to_string(replicas_.size()) + " replica(s) after " +
                                  std::to_string(attempts) + " tries; last: " + last_error.message());
}

Result<wire::ScoreReply> ScoringClient::Score(const float* rows, size_t n_rows, uint32_t cols,
                                              milliseconds timeout) {
  if (n_rows == 0 || cols == 0) return Status::InvalidArgument("ScoringClient::Score: no rows or no cols");
  const auto deadline = Clock::now() + timeout;
  wire::ScoreRequest request;
  request.request_id = next_id_++;
  request.cols = cols;
  request.rows.assign(rows, rows + n_rows * cols);
  if (options_.send_deadline) {
    request.deadline_unix_us = NowUnixUs() + std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  }
  const std::string frame = wire::Encode(wire::Message(std::move(request)), options_.protocol_version);
  return CallForScoreReply(frame, next_id_ - 1, deadline);
}

Result<wire::ScoreReply> ScoringClient::CallForScoreReply(const std::string& frame, uint64_t request_id,
                                                          Clock::time_point deadline) {
  Result<wire::Message> got = Call(frame, request_id, deadline);
  if (!got.ok()) return got.status();
  if (auto* reply = std::get_if<wire::ScoreReply>(&*got)) return std::move(*reply);
  return Status::Corruption("request " + std::to_string(request_id) + ": the reply is a " +
                            wire::MessageTypeName(wire::TypeOf(*got)) + ", not a score_reply");
}

Result<wire::LabelAck> ScoringClient::SendLabels(wire::LabelBatch batch, milliseconds timeout) {
  batch.request_id = next_id_++;
  const uint64_t id = batch.request_id;
  Result<wire::Message> got = Call(wire::Encode(wire::Message(std::move(batch))), id, Clock::now() + timeout);
  if (!got.ok()) return got.status().WithContext("label batch " + std::to_string(id));
  if (auto* ack = std::get_if<wire::LabelAck>(&*got)) return std::move(*ack);
  const ReplyHead head = *HeadOf(*got);
  return Status::InvalidArgument("label batch " + std::to_string(id) + " refused: " +
                                 wire::ErrorCodeName(head.error) + ": " + head.message);
}

Result<wire::SchemaReply> ScoringClient::Schema(milliseconds timeout) {
  const uint64_t id = next_id_++;
  Result<wire::Message> got = Call(wire::Encode(wire::Message(wire::SchemaRequest{id})), id, Clock::now() + timeout);
  if (!got.ok()) return got.status().WithContext("schema request");
  if (auto* schema = std::get_if<wire::SchemaReply>(&*got)) return std::move(*schema);
  const ReplyHead head = *HeadOf(*got);
  return Status::InvalidArgument(std::string("schema request refused: ") + wire::ErrorCodeName(head.error) + ": " +
                                 head.message);
}

Status ScoringClient::SendLabel(uint64_t request_id, uint32_t row, uint8_t label, milliseconds timeout) {
  // Version 1 carries labels 0 and 1; a larger class id (a K-class model) goes in version 2.
  wire::LabelFeedback feedback;
  feedback.request_id = request_id;
  feedback.row = row;
  feedback.label = label;
  const std::string frame =
      wire::Encode(wire::Message(feedback), label > 1 ? wire::kProtocolVersion2 : wire::kProtocolVersion);
  Result<wire::ScoreReply> ack = CallForScoreReply(frame, request_id, Clock::now() + timeout);
  if (!ack.ok()) return ack.status().WithContext("label for request " + std::to_string(request_id));
  if (ack->error != wire::ErrorCode::kOk) {
    return Status::InvalidArgument("label for request " + std::to_string(request_id) + " refused: " +
                                   wire::ErrorCodeName(ack->error) + ": " + ack->message);
  }
  return Status::Ok();
}

}  // namespace reflex::transport
