#include "transport/control_server.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <iterator>
#include <utility>

#include <zmq_addon.hpp>

namespace reflex::transport {
namespace {

using wire::ErrorCode;

constexpr size_t kMaxEnvelopeFrames = 8;  // identity + a delimiter; more is not a client of ours
constexpr int kMaxReceivesPerWake = 16;   // then look at the stop flag again
constexpr std::chrono::milliseconds kPollInterval{50};

wire::ControlReply ErrorReply(uint64_t request_id, ErrorCode code, std::string message) {
  wire::ControlReply reply;
  reply.request_id = request_id;
  reply.error = code;
  reply.message = std::move(message);
  return reply;
}

}  // namespace

ControlServer::ControlServer(ControlHandler handler, ControlServerOptions options)
    : handler_(std::move(handler)), options_(std::move(options)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::Start(ControlHandler handler, ControlServerOptions options) {
  if (!handler) return Status::InvalidArgument("ControlServer::Start: handler is empty");
  if (options.endpoint.empty()) return Status::InvalidArgument("ControlServer::Start: empty endpoint");
  std::unique_ptr<ControlServer> server(new ControlServer(std::move(handler), std::move(options)));
  REFLEX_RETURN_IF_ERROR(server->Bind());
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

Status ControlServer::Bind() {
  try {
    router_.emplace(context_, zmq::socket_type::router);
    router_->set(zmq::sockopt::linger, options_.linger_ms);
    // Frames far over the decode limit are dropped by libzmq before they are buffered; frames
    // modestly over it still get a kTooLarge reply from the codec.
    const size_t cap = std::max<size_t>(options_.limits.max_message_bytes * 2, 1u << 20);
    router_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cap));
    Status secured = SecureServerSocket(context_, *router_, options_.curve, options_.curve_allowed_clients, &zap_,
                                        "ControlServer");
    if (!secured.ok()) {
      router_.reset();
      return secured;
    }
    router_->bind(options_.endpoint);
    bound_endpoint_ = router_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    router_.reset();
    return Status::Unavailable("ControlServer: bind " + options_.endpoint + ": " + e.what());
  }
  return Status::Ok();
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  router_.reset();   // normally closed by the server thread already
  zap_.reset();      // the ZAP handler must go before its context
  context_.close();  // returns once the socket's linger has passed
}

ControlServerStats ControlServer::stats() const {
  ControlServerStats s;
  s.requests = requests_.load();
  s.replies = replies_.load();
  s.errors = errors_.load();
  return s;
}

void ControlServer::Run() {
  while (!stopping_.load()) {
    zmq::pollitem_t item{router_->handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, kPollInterval);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      if (e.num() != EINTR) std::cerr << "ControlServer " << bound_endpoint_ << ": poll failed: " << e.what() << "\n";
      continue;
    }
    if (!(item.revents & ZMQ_POLLIN)) continue;
    for (int i = 0; i < kMaxReceivesPerWake && !stopping_.load(); ++i) {
      std::vector<zmq::message_t> parts;
      try {
        auto got = zmq::recv_multipart(*router_, std::back_inserter(parts), zmq::recv_flags::dontwait);
        if (!got) break;
      } catch (const zmq::error_t& e) {
        std::cerr << "ControlServer " << bound_endpoint_ << ": receive failed: " << e.what() << "\n";
        break;
      }
      requests_++;
      if (parts.size() < 2) continue;  // ROUTER always prepends an identity; nothing to address
      if (parts.size() > kMaxEnvelopeFrames) {
        // Answer the peer without echoing an unbounded envelope.
        std::vector<zmq::message_t> identity;
        identity.push_back(std::move(parts.front()));
        identity.emplace_back();  // stands for the payload; not sent
        Send(identity, ErrorReply(0, ErrorCode::kMalformed, "control request: expected one payload frame"));
        continue;
      }
      Send(parts, Answer(parts.back()));
    }
  }
  router_.reset();  // closes with linger_ms so the last reply can leave
}

wire::ControlReply ControlServer::Answer(const zmq::message_t& payload) {
  wire::Decoded decoded = wire::Decode(payload.data(), payload.size(), options_.limits);
  if (!decoded.ok()) {
    const ErrorCode code = decoded.error.code == ErrorCode::kOk ? ErrorCode::kMalformed : decoded.error.code;
    return ErrorReply(decoded.request_id.value_or(0), code, decoded.error.message);
  }
  const auto* request = std::get_if<wire::ControlRequest>(&*decoded.message);
  if (!request) {
    return ErrorReply(0, ErrorCode::kInvalidArgument,
                      std::string("control server accepts control_request, got ") +
                          wire::MessageTypeName(wire::TypeOf(*decoded.message)));
  }
  wire::ControlReply reply;
  try {
    reply = handler_(*request);
  } catch (const std::exception& e) {
    reply = ErrorReply(0, ErrorCode::kInternal,
                       "control command '" + request->command + "' failed inside the coordinator: " + e.what());
  } catch (...) {
    reply = ErrorReply(0, ErrorCode::kInternal,
                       "control command '" + request->command + "' failed inside the coordinator: unknown exception");
  }
  reply.request_id = request->request_id;
  return reply;
}

// parts: [envelope..., payload]; replies [envelope..., encoded reply].
void ControlServer::Send(const std::vector<zmq::message_t>& parts, const wire::ControlReply& reply) {
  if (reply.error != ErrorCode::kOk) errors_++;
  const std::string payload = wire::Encode(wire::Message(reply));
  replies_++;  // counted before the send so that a client holding its reply always sees it counted
  try {
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      router_->send(zmq::buffer(parts[i].data(), parts[i].size()),
                    zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    // ROUTER drops a reply to a peer that has gone; that is the caller's timeout to handle.
    router_->send(zmq::buffer(payload), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    replies_--;
    std::cerr << "ControlServer " << bound_endpoint_ << ": reply send failed: " << e.what() << "\n";
  }
}

}  // namespace reflex::transport
