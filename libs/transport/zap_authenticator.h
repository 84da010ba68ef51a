// ZapAuthenticator: the ZAP handler (ZeroMQ RFC 27) that decides which CURVE clients the CURVE
// server sockets of one zmq::context_t accept.
//
// libzmq asks the handler bound at inproc://zeromq.zap.01 *in the server socket's own context*
// whenever a client completes a CURVE handshake. This handler accepts a client iff its public
// key is in the allow-list (Z85 text, as curve_keys.h reads it), answers 400 otherwise, and
// counts both. Non-CURVE mechanisms (NULL, PLAIN) are refused: a Reflex server either runs
// CURVE or no ZAP at all. The ZAP domain is not used: one allow-list for the whole context.
//
// Only one handler can be bound per context, so the owner of the context owns the authenticator
// (a service main, a test), and every CURVE server on that context shares its allow-list.
// Ownership and threads: Start() binds the ZAP socket and starts one handler thread that owns
// it; the handler answers until Stop() or destruction, which join the thread. The
// authenticator must be stopped before its context is closed (destroy it first).
// SetAllowList() and the counters are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "core/status.h"

namespace reflex::transport {

class ZapAuthenticator {
 public:
  // Binds inproc://zeromq.zap.01 on `context` and starts answering. InvalidArgument for a
  // malformed key in the list; FailedPrecondition when the context already has a ZAP handler.
  static Result<std::unique_ptr<ZapAuthenticator>> Start(zmq::context_t& context,
                                                         const std::vector<std::string>& allowed);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // Replaces the allow-list; applies to handshakes that start afterwards. Same errors as Start.
  Status SetAllowList(const std::vector<std::string>& allowed);

  // Stops answering and joins the handler thread. Idempotent.
  void Stop();

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  ZapAuthenticator(zmq::context_t& context, std::set<std::string> allowed);
  void Run();
  // Answers one ZAP request (frames as received); returns whether the client was accepted.
  bool Answer(const std::vector<zmq::message_t>& request);
  bool IsAllowed(const std::string& public_key_z85);

  zmq::socket_t handler_;  // REP bound at inproc://zeromq.zap.01; owned by the thread
  zmq::socket_t stop_receiver_;  // PAIR; a message here ends the thread
  zmq::socket_t stop_sender_;    // PAIR; used by Stop() only
  std::mutex mutex_;             // guards allowed_ and stop_sender_
  std::set<std::string> allowed_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
  bool stopped_ = false;  // guarded by mutex_
};

}  // namespace reflex::transport
