// ScoringServer's life cycle and I/O thread: bind, receive, and send replies. Decoding,
// validation and dispatch of each frame are in scoring_dispatch.cc; the workers (batching and
// scoring) in scoring_batching.cc.
#include "transport/scoring_server.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <utility>

#include <zmq_addon.hpp>

namespace reflex::transport {
namespace {

using wire::ErrorCode;

constexpr int kMaxReceivesPerWake = 64;      // fairness between receiving and replying
constexpr std::chrono::milliseconds kPollInterval{50};

}  // namespace

int64_t ScoringServer::NowUnixUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

wire::ScoreReply ScoringServer::ErrorReply(uint64_t request_id, wire::ErrorCode code, std::string message) {
  wire::ScoreReply reply;
  reply.request_id = request_id;
  reply.error = code;
  reply.message = std::move(message);
  return reply;
}

ScoringServer::ScoringServer(std::shared_ptr<Scorer> scorer, ScoringServerOptions options)
    : scorer_(std::move(scorer)), options_(std::move(options)), limits_(options_.limits) {
  if (limits_.expected_cols == 0) limits_.expected_cols = scorer_->cols();
}

Result<std::unique_ptr<ScoringServer>> ScoringServer::Start(std::shared_ptr<Scorer> scorer,
                                                            ScoringServerOptions options) {
  if (!scorer) return Status::InvalidArgument("ScoringServer::Start: scorer is null");
  if (scorer->cols() == 0) return Status::InvalidArgument("ScoringServer::Start: scorer has 0 cols");
  if (options.workers == 0) return Status::InvalidArgument("ScoringServer::Start: workers must be >= 1");
  if (options.max_batch_rows == 0) {
    return Status::InvalidArgument("ScoringServer::Start: max_batch_rows must be >= 1");
  }
  if (options.max_queue_requests == 0 || options.max_queue_rows == 0) {
    return Status::InvalidArgument("ScoringServer::Start: queue bounds must be >= 1");
  }
  if (options.endpoint.empty()) return Status::InvalidArgument("ScoringServer::Start: empty endpoint");

  std::unique_ptr<ScoringServer> server(new ScoringServer(std::move(scorer), std::move(options)));
  Status bound = server->Bind();
  if (!bound.ok()) return bound;
  server->io_thread_ = std::thread([s = server.get()] { s->IoLoop(); });
  for (size_t i = 0; i < server->options_.workers; ++i) {
    server->workers_.emplace_back([s = server.get()] { s->WorkerLoop(); });
  }
  return server;
}

Status ScoringServer::Bind() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return Status::Internal(std::string("ScoringServer: eventfd failed: ") + std::strerror(errno));
  }
  try {
    router_.emplace(context_, zmq::socket_type::router);
    router_->set(zmq::sockopt::linger, options_.linger_ms);
    router_->set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    router_->set(zmq::sockopt::rcvhwm, options_.send_high_water_mark);
    // Frames far over the decode limit are dropped by libzmq (and the peer disconnected) before
    // they are buffered; frames modestly over it still get a kTooLarge reply from the codec.
    const size_t cap = std::max<size_t>(limits_.max_message_bytes * 2, 1u << 20);
    router_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cap));
    Status secured = SecureServerSocket(context_, *router_, options_.curve, options_.curve_allowed_clients, &zap_,
                                        "ScoringServer");
    if (!secured.ok()) {
      router_.reset();
      return secured;
    }
    router_->bind(options_.endpoint);
    bound_endpoint_ = router_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    router_.reset();
    return Status::Unavailable("ScoringServer: bind " + options_.endpoint + ": " + e.what());
  }
  return Status::Ok();
}

ScoringServer::~ScoringServer() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ScoringServer::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    closed_ = true;
  }
  stopping_ = true;
  queue_cv_.notify_all();
  Wake();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  if (io_thread_.joinable()) io_thread_.join();
  router_.reset();  // normally closed by the I/O thread already
  zap_.reset();     // the ZAP handler must go before its context
  context_.close(); // returns once the sockets' linger has passed
}

void ScoringServer::Wake() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  // The counter saturating (EAGAIN) still leaves it readable: the wake-up is not lost.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void ScoringServer::CountError(ErrorCode code) {
  const size_t index = static_cast<size_t>(code);
  if (code != ErrorCode::kOk && index < errors_.size()) errors_[index]++;
}

ScoringServerStats ScoringServer::stats() const {
  ScoringServerStats s;
  s.requests = requests_.load();
  s.score_requests = score_requests_.load();
  s.labels = labels_.load();
  s.labels_dropped = labels_dropped_.load();
  s.schema_requests = schema_requests_.load();
  s.rows_scored = rows_scored_.load();
  s.batches = batches_.load();
  s.batched_requests = batched_requests_.load();
  s.max_batch_requests = max_batch_requests_.load();
  s.inline_requests = inline_requests_.load();
  s.shed = shed_.load();
  s.replies = replies_.load();
  for (size_t i = 1; i < errors_.size(); ++i) {
    const uint64_t n = errors_[i].load();
    if (n) s.errors[static_cast<ErrorCode>(i)] = n;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    s.queue_requests = queue_.size();
  }
  return s;
}

// ---- replies (any thread) -------------------------------------------------------------------

void ScoringServer::Reply(std::vector<std::string> envelope, const wire::ScoreReply& reply,
                          uint32_t protocol_version) {
  ReplyFromQueue(std::move(envelope), reply, /*from_queue=*/false, protocol_version);
}

void ScoringServer::ReplyFromQueue(std::vector<std::string> envelope, const wire::ScoreReply& reply,
                                   bool from_queue, uint32_t protocol_version) {
  SendMessage(std::move(envelope), wire::Message(reply), reply.error, from_queue, protocol_version);
}

void ScoringServer::SendMessage(std::vector<std::string> envelope, const wire::Message& message,
                                wire::ErrorCode error, bool from_queue, uint32_t protocol_version) {
  CountError(error);
  Outgoing out;
  out.envelope = std::move(envelope);
  out.payload = wire::Encode(message, protocol_version);
  out.from_queue = from_queue;
  {
    std::lock_guard<std::mutex> lock(outbox_mu_);
    outbox_.push_back(std::move(out));
  }
  // The I/O thread sends its outbox at the end of every turn: only other threads must wake it.
  if (std::this_thread::get_id() != io_thread_id_.load(std::memory_order_relaxed)) Wake();
}

void ScoringServer::SendOutbox() {
  std::vector<Outgoing> batch;
  {
    std::lock_guard<std::mutex> lock(outbox_mu_);
    batch.swap(outbox_);
  }
  for (Outgoing& out : batch) {
    // Counted before the send so that a client holding its reply always sees it counted.
    replies_++;
    try {
      for (std::string& frame : out.envelope) {
        router_->send(zmq::buffer(frame), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      }
      // ROUTER drops a reply to a peer that has gone or is over its high-water mark; that is
      // the client's timeout to handle, not ours.
      router_->send(zmq::buffer(out.payload), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      replies_--;
      std::cerr << "ScoringServer " << bound_endpoint_ << ": reply send failed: " << e.what() << "\n";
    }
    if (out.from_queue) in_flight_--;
  }
}

// ---- I/O thread -----------------------------------------------------------------------------

void ScoringServer::IoLoop() {
  io_thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  zmq::pollitem_t items[2] = {
      {router_->handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, wake_fd_, ZMQ_POLLIN, 0},
  };
  for (;;) {
    const bool stopping = stopping_.load();
    if (stopping && in_flight_.load() == 0) {
      std::lock_guard<std::mutex> lock(outbox_mu_);
      if (outbox_.empty()) break;
    }
    // Once stopping, no new requests are read; what is still in the socket is dropped at close
    // and its clients time out and retry elsewhere.
    items[0].events = stopping ? 0 : ZMQ_POLLIN;
    items[0].revents = 0;
    items[1].revents = 0;
    try {
      zmq::poll(items, 2, kPollInterval);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      if (e.num() != EINTR) {
        std::cerr << "ScoringServer " << bound_endpoint_ << ": poll failed: " << e.what() << "\n";
      }
      continue;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof(count));
    }
    if (!stopping && (items[0].revents & ZMQ_POLLIN)) {
      for (int i = 0; i < kMaxReceivesPerWake; ++i) {
        std::vector<zmq::message_t> parts;
        try {
          auto got = zmq::recv_multipart(*router_, std::back_inserter(parts), zmq::recv_flags::dontwait);
          if (!got) break;
          socket_has_more_ = (router_->get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
        } catch (const zmq::error_t& e) {
          std::cerr << "ScoringServer " << bound_endpoint_ << ": receive failed: " << e.what() << "\n";
          break;
        }
        HandleFrame(&parts);
      }
    }
    SendOutbox();
  }
  SendOutbox();
  router_.reset();  // closes with linger_ms so the last replies can leave
}

}  // namespace reflex::transport
