// ControlServer: the coordinator's operator endpoint (docs/DESIGN.md §4; PROTOCOL.md "Control").
//
// Frames: an operator (reflexctl, control_client.h) sends ONE frame, an encoded
// wire::ControlRequest, through a DEALER (or REQ); the ROUTER sees [identity, payload] (or
// [identity, "", payload]) and replies with every frame before the payload, unchanged, followed
// by an encoded wire::ControlReply.
// Replies:
//   ControlRequest -> whatever the handler returns, with request_id set to the request's.
//                     A handler that throws gives a kInternal reply carrying the exception text.
//   undecodable    -> a ControlReply with the decoder's error code and message, addressed with
//                     the request_id the codec recovered (0 when it could not).
//   another type   -> a kInvalidArgument ControlReply naming the type it got.
// The server never crashes on a frame, whatever its bytes.
//
// Threads and ownership: one server thread owns the ROUTER (and its own zmq::context_t) and
// calls the handler, one request at a time, in arrival order. The handler may block (up to its
// own timeout): requests queue in the socket meanwhile, and Stop() waits for the running call to
// return. The handler must not call Stop() on its own server. stats() and Stop() are safe from
// any thread; Stop() is idempotent and the destructor calls it. Units: milliseconds.
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
#include <vector>

#include <zmq.hpp>

#include "core/status.h"
#include "transport/curve_keys.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace reflex::transport {

// Answers one operator command; runs on the server thread. Its reply's request_id is
// overwritten with the request's.
using ControlHandler = std::function<wire::ControlReply(const wire::ControlRequest&)>;

struct ControlServerOptions {
  std::string endpoint = "tcp://127.0.0.1:*";  // what the ROUTER binds ("*" port: ephemeral)
  wire::Limits limits;                          // decode limits for requests
  int linger_ms = 200;                          // how long Stop() lets unsent replies leave
  std::optional<CurveServerConfig> curve;       // CURVE server keys (curve_keys.h): encrypt, and
                                                // operators must know curve->server.public_key
  std::vector<std::string> curve_allowed_clients;  // with curve: when non-empty, only these
                                                // client public keys (Z85) are accepted (a
                                                // ZapAuthenticator on the server's own context)
};

// Counters, each monotonic since Start.
struct ControlServerStats {
  uint64_t requests = 0;  // frames received (good and bad)
  uint64_t replies = 0;   // replies handed to the socket
  uint64_t errors = 0;    // replies with error != kOk (refusals, bad frames, handler failures)
};

class ControlServer {
 public:
  // Binds the endpoint and starts the server thread. InvalidArgument for an empty handler or
  // endpoint; Unavailable naming the endpoint when the bind fails; the CURVE setup's error when
  // the keys are bad.
  static Result<std::unique_ptr<ControlServer>> Start(ControlHandler handler, ControlServerOptions options);
  ~ControlServer();  // Stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // The endpoint actually bound (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:41237".
  const std::string& endpoint() const { return bound_endpoint_; }

  ControlServerStats stats() const;

  // Finishes the handler call in progress (if any), sends its reply, then closes the socket.
  // Requests still queued in the socket are dropped (their callers time out). Idempotent.
  void Stop();

 private:
  ControlServer(ControlHandler handler, ControlServerOptions options);
  Status Bind();
  void Run();
  // Decodes one request payload and runs the handler: the reply to send back.
  wire::ControlReply Answer(const zmq::message_t& payload);
  // Replies to [envelope..., payload] with [envelope..., Encode(reply)].
  void Send(const std::vector<zmq::message_t>& parts, const wire::ControlReply& reply);

  const ControlHandler handler_;
  const ControlServerOptions options_;
  zmq::context_t context_{1};
  std::unique_ptr<ZapAuthenticator> zap_;   // only with curve_allowed_clients
  std::optional<zmq::socket_t> router_;     // owned by the server thread once started
  std::string bound_endpoint_;

  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;                      // serialises Stop()
  bool stopped_ = false;                    // guarded by stop_mu_
  std::thread thread_;

  std::atomic<uint64_t> requests_{0}, replies_{0}, errors_{0};
};

}  // namespace reflex::transport
