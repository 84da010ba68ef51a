#include "transport/zap_authenticator.h"

#include <atomic>
#include <utility>

#include <zmq_addon.hpp>

#include "transport/curve_keys.h"

namespace reflex::transport {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";

Result<std::set<std::string>> CheckedAllowList(const std::vector<std::string>& allowed) {
  std::set<std::string> keys;
  for (size_t i = 0; i < allowed.size(); ++i) {
    REFLEX_RETURN_IF_ERROR(CheckZ85Key(allowed[i], "allow-list entry " + std::to_string(i)));
    keys.insert(allowed[i]);
  }
  return keys;
}

std::string UniqueStopEndpoint() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://reflex-zap-stop-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

Result<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::Start(
    zmq::context_t& context, const std::vector<std::string>& allowed) {
  Result<std::set<std::string>> keys = CheckedAllowList(allowed);
  if (!keys.ok()) return keys.status();
  std::unique_ptr<ZapAuthenticator> authenticator;
  try {
    authenticator.reset(new ZapAuthenticator(context, std::move(*keys)));
  } catch (const zmq::error_t& error) {
    if (error.num() == EADDRINUSE) {
      return Status::FailedPrecondition(std::string(kZapEndpoint) +
                                        ": this context already has a ZAP handler");
    }
    return Status::Internal(std::string("starting the ZAP handler: ") + error.what());
  }
  // The sockets were created on this thread; std::thread's start is a full barrier, after which
  // only the handler thread touches handler_ and stop_receiver_.
  authenticator->thread_ = std::thread([raw = authenticator.get()] { raw->Run(); });
  return authenticator;
}

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, std::set<std::string> allowed)
    : handler_(context, zmq::socket_type::rep),
      stop_receiver_(context, zmq::socket_type::pair),
      stop_sender_(context, zmq::socket_type::pair),
      allowed_(std::move(allowed)) {
  for (zmq::socket_t* socket : {&handler_, &stop_receiver_, &stop_sender_}) {
    socket->set(zmq::sockopt::linger, 0);
  }
  handler_.bind(kZapEndpoint);
  const std::string stop_endpoint = UniqueStopEndpoint();
  stop_receiver_.bind(stop_endpoint);
  stop_sender_.connect(stop_endpoint);
}

ZapAuthenticator::~ZapAuthenticator() { Stop(); }

Status ZapAuthenticator::SetAllowList(const std::vector<std::string>& allowed) {
  Result<std::set<std::string>> keys = CheckedAllowList(allowed);
  if (!keys.ok()) return keys.status();
  std::lock_guard<std::mutex> lock(mutex_);
  allowed_ = std::move(*keys);
  return Status::Ok();
}

void ZapAuthenticator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    try {
      stop_sender_.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // The context is terminating: the handler thread sees ETERM and ends by itself.
    }
  }
  if (thread_.joinable()) thread_.join();
  // Closing here (not in the members' destructors) unbinds the ZAP endpoint right away, so a
  // new authenticator can start on the same context.
  try {
    handler_.unbind(kZapEndpoint);  // synchronous for inproc, unlike close()
  } catch (const zmq::error_t&) {
    // Already gone with a terminating context.
  }
  handler_.close();
  stop_receiver_.close();
  stop_sender_.close();
}

bool ZapAuthenticator::IsAllowed(const std::string& public_key_z85) {
  std::lock_guard<std::mutex> lock(mutex_);
  return allowed_.count(public_key_z85) > 0;
}

void ZapAuthenticator::Run() {
  zmq::pollitem_t items[] = {{handler_.handle(), 0, ZMQ_POLLIN, 0},
                             {stop_receiver_.handle(), 0, ZMQ_POLLIN, 0}};
  try {
    while (true) {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
      if (items[1].revents & ZMQ_POLLIN) return;
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(handler_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
        continue;
      }
      if (Answer(request)) {
        accepted_.fetch_add(1);
      } else {
        refused_.fetch_add(1);
      }
    }
  } catch (const zmq::error_t&) {
    // ETERM: the context is being closed under us; nothing left to answer.
  }
}

bool ZapAuthenticator::Answer(const std::vector<zmq::message_t>& request) {
  // Request frames (RFC 27): version, request id, domain, address, identity, mechanism,
  // credentials... For CURVE the one credential is the client's 32-byte public key.
  const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
  bool allowed = false;
  std::string status_text = "malformed ZAP request";
  if (request.size() >= 6 && request[0].to_string() == "1.0") {
    const std::string mechanism = request[5].to_string();
    if (mechanism != "CURVE") {
      status_text = "mechanism " + mechanism + " is not accepted";
    } else if (request.size() < 7 || request[6].size() != 32) {
      status_text = "CURVE request without a 32-byte client key";
    } else {
      char z85[41] = {};
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      allowed = IsAllowed(z85);
      status_text = allowed ? "OK" : "client key not in the allow-list";
    }
  }
  std::vector<zmq::message_t> reply;
  reply.emplace_back(std::string("1.0"));
  reply.emplace_back(request_id);
  reply.emplace_back(std::string(allowed ? "200" : "400"));
  reply.emplace_back(status_text);
  reply.emplace_back(std::string());  // user id
  reply.emplace_back(std::string());  // metadata
  zmq::send_multipart(handler_, reply);
  return allowed;
}

}  // namespace reflex::transport
