// ScoringServer's life cycle and I/O thread: bind, receive, decode, validate, shed, queue, and
// send replies. The workers (batching and scoring) are in scoring_batching.cc.
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

constexpr size_t kMaxEnvelopeFrames = 8;     // identity + a few; more is not a client of ours
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
  s.rows_scored = rows_scored_.load();
  s.batches = batches_.load();
  s.batched_requests = batched_requests_.load();
  s.max_batch_requests = max_batch_requests_.load();
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

void ScoringServer::Reply(std::vector<std::string> envelope, const wire::ScoreReply& reply) {
  ReplyFromQueue(std::move(envelope), reply, /*from_queue=*/false);
}

void ScoringServer::ReplyFromQueue(std::vector<std::string> envelope, const wire::ScoreReply& reply,
                                   bool from_queue) {
  CountError(reply.error);
  Outgoing out;
  out.envelope = std::move(envelope);
  out.payload = wire::Encode(wire::Message(reply));
  out.from_queue = from_queue;
  {
    std::lock_guard<std::mutex> lock(outbox_mu_);
    outbox_.push_back(std::move(out));
  }
  Wake();
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

// Decodes and validates one [envelope..., payload] message; queues a score request or answers.
void ScoringServer::HandleFrame(std::vector<zmq::message_t>* parts) {
  requests_++;
  if (parts->size() < 2) return;  // ROUTER always prepends an identity; nothing to address
  if (parts->size() > kMaxEnvelopeFrames) {
    // Answer the peer without echoing an unbounded envelope.
    Reply({parts->front().to_string()},
          ErrorReply(0, ErrorCode::kMalformed, "scoring request: expected one payload frame"));
    return;
  }
  std::vector<std::string> envelope;
  envelope.reserve(parts->size() - 1);
  for (size_t i = 0; i + 1 < parts->size(); ++i) envelope.push_back((*parts)[i].to_string());
  const zmq::message_t& payload = parts->back();  // decoded in place, not copied

  wire::Decoded decoded = wire::Decode(payload.data(), payload.size(), limits_);
  if (!decoded.ok()) {
    ErrorCode code = decoded.error.code == ErrorCode::kOk ? ErrorCode::kMalformed : decoded.error.code;
    Reply(std::move(envelope),
          ErrorReply(decoded.request_id.value_or(0), code, decoded.error.message));
    return;
  }

  wire::Message& message = *decoded.message;
  if (auto* label = std::get_if<wire::LabelFeedback>(&message)) {
    labels_++;
    if (options_.label_sink) {
      try {
        (void)options_.label_sink(*label);
      } catch (...) {
        // A sink must not throw; the label is lost but the server keeps serving.
      }
    }
    wire::ScoreReply ack;  // the acknowledgement: echo the id, kOk, no probabilities
    ack.request_id = label->request_id;
    Reply(std::move(envelope), ack);
    return;
  }
  auto* request = std::get_if<wire::ScoreRequest>(&message);
  if (!request) {
    Reply(std::move(envelope),
          ErrorReply(0, ErrorCode::kInvalidArgument,
                     std::string("scoring server accepts score_request and label_feedback, got ") +
                         wire::MessageTypeName(wire::TypeOf(message))));
    return;
  }

  score_requests_++;
  const uint64_t id = request->request_id;
  const uint32_t want = scorer_->cols();
  if (request->rows.empty()) {
    Reply(std::move(envelope), ErrorReply(id, ErrorCode::kInvalidArgument, "score_request.rows: no rows"));
    return;
  }
  // The codec checks these too; checked again here so the server's contract does not depend on
  // the decode limits it was given.
  if (request->cols != want) {
    Reply(std::move(envelope),
          ErrorReply(id, ErrorCode::kWrongFeatureCount,
                     "score_request.cols: " + std::to_string(request->cols) + " features, model expects " +
                         std::to_string(want)));
    return;
  }
  if (request->rows.size() % want != 0) {
    Reply(std::move(envelope),
          ErrorReply(id, ErrorCode::kWrongFeatureCount,
                     "score_request.rows: " + std::to_string(request->rows.size()) +
                         " values is not a whole number of rows of " + std::to_string(want)));
    return;
  }
  const size_t n_rows = request->n_rows();
  if (n_rows > limits_.max_rows) {
    Reply(std::move(envelope),
          ErrorReply(id, ErrorCode::kTooManyRows,
                     "score_request.rows: " + std::to_string(n_rows) + " rows, limit " +
                         std::to_string(limits_.max_rows)));
    return;
  }
  if (!limits_.allow_non_finite) {
    for (size_t i = 0; i < request->rows.size(); ++i) {
      if (!std::isfinite(request->rows[i])) {
        Reply(std::move(envelope),
              ErrorReply(id, ErrorCode::kNonFinite,
                         "score_request.rows[" + std::to_string(i / want) + "][" + std::to_string(i % want) +
                             "]: not finite"));
        return;
      }
    }
  }
  if (request->deadline_unix_us && NowUnixUs() > *request->deadline_unix_us) {
    Reply(std::move(envelope),
          ErrorReply(id, ErrorCode::kDeadlineExceeded, "score_request: deadline passed before it arrived"));
    return;
  }

  bool accepted = false;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closed_) {
      why = "server is stopping";
    } else if (queue_.size() >= options_.max_queue_requests) {
      why = "queue full: " + std::to_string(queue_.size()) + " requests waiting";
    } else if (queued_rows_ + n_rows > options_.max_queue_rows && !queue_.empty()) {
      why = "queue full: " + std::to_string(queued_rows_) + " rows waiting";
    } else {
      in_flight_++;
      queued_rows_ += n_rows;
      queue_.push_back(WorkItem{std::move(envelope), std::move(*request)});
      accepted = true;
    }
  }
  if (accepted) {
    queue_cv_.notify_one();
    return;
  }
  shed_++;
  Reply(std::move(envelope), ErrorReply(id, ErrorCode::kOverloaded, "scoring server overloaded: " + why));
}

}  // namespace reflex::transport
