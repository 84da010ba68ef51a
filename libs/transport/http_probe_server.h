// HttpProbeServer: a tiny HTTP/1.0 server for Kubernetes liveness and readiness probes, built
// on a ZeroMQ ZMQ_STREAM socket (so a service needs no HTTP library).
//
//   GET /healthz  -> 200 "ok\n"                   (the process is alive and its loop turns)
//   GET /readyz   -> calls `ready`: 200 "ready\n", or 503 "not ready: <reason>\n"
//   GET <other>   -> 404;   another method on /healthz or /readyz -> 405
//   a request line that is not "METHOD PATH HTTP/x.y", or a request whose head (up to the blank
//   line) is over max_request_bytes (8 KiB) -> 400
// HEAD is answered like GET, without the body. A query string (`/readyz?verbose`) is ignored.
// Every reply has Content-Length and "Connection: close", and the connection is closed after it
// (ZMQ_STREAM: a zero-length frame to the connection's identity). Request bodies are ignored.
//
// Bounds: at most max_connections half-read requests are held (a new connection over the bound
// evicts the one held longest, so a flood of half-open connections cannot lock probes out); a
// connection that has not sent a whole request head within idle_timeout is closed.
//
// Threads and ownership: one thread owns the socket (and the server's own zmq::context_t) and
// calls `ready` there, so `ready` must be quick and must not throw (a throw answers 503 naming
// it). stats() and Stop() are safe from any thread; Stop() is idempotent and the destructor
// calls it. Units: ports are TCP ports; times are milliseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <zmq.hpp>

#include "core/status.h"

namespace reflex::transport {

// Readiness: {true, ""} when ready, else {false, why not}. Called on the probe thread.
using ReadinessCheck = std::function<std::pair<bool, std::string>()>;

struct HttpProbeServerOptions {
  std::string address = "127.0.0.1";           // interface to bind ("0.0.0.0" or "*": all)
  uint16_t port = 0;                            // 0: an ephemeral port (see port())
  size_t max_request_bytes = 8192;              // request head limit, else 400
  size_t max_connections = 128;                 // half-read requests held at once
  std::chrono::milliseconds idle_timeout{5000}; // close a connection silent this long
  // When set, GET /metrics answers 200 with this text (Prometheus text exposition format);
  // called on the probe thread.
  std::function<std::string()> metrics;
};

// Counters, each monotonic since Start.
struct HttpProbeServerStats {
  uint64_t requests = 0;     // replies sent, any status
  uint64_t not_ready = 0;    // 503 replies
  uint64_t bad_requests = 0; // 400 replies
  uint64_t dropped = 0;      // connections closed without a reply (idle, over the bound)
};

class HttpProbeServer {
 public:
  // Binds tcp://<address>:<port> and starts the thread. InvalidArgument for an empty `ready` or
  // address; Unavailable naming the address when the bind fails (port in use, bad interface).
  static Result<std::unique_ptr<HttpProbeServer>> Start(ReadinessCheck ready, HttpProbeServerOptions options);
  ~HttpProbeServer();  // Stop()
  HttpProbeServer(const HttpProbeServer&) = delete;
  HttpProbeServer& operator=(const HttpProbeServer&) = delete;

  uint16_t port() const { return port_; }                      // the port actually bound
  const std::string& endpoint() const { return endpoint_; }    // e.g. "tcp://127.0.0.1:41237"

  HttpProbeServerStats stats() const;

  // Stops the thread and closes the socket (open connections are dropped). Idempotent.
  void Stop();

 private:
  struct Connection {
    std::string head;                                // bytes received so far
    std::chrono::steady_clock::time_point since;     // first seen
  };
  struct Response {
    int status = 200;
    std::string body;
  };

  HttpProbeServer(ReadinessCheck ready, HttpProbeServerOptions options);
  Status Bind();
  void Run();
  void OnFrame(const std::string& id, const zmq::message_t& data);
  Response Route(const std::string& head, bool* head_only);
  void Reply(const std::string& id, const Response& response, bool head_only);
  void Close(const std::string& id);               // zero-length frame; forgets the connection
  void CloseIdle();
  void EvictOldest();                              // closes the connection held longest

  const ReadinessCheck ready_;
  const HttpProbeServerOptions options_;
  zmq::context_t context_{1};
  std::optional<zmq::socket_t> stream_;  // owned by the probe thread once started
  std::string endpoint_;
  uint16_t port_ = 0;

  // Probe thread only.
  std::map<std::string, Connection> connections_;  // by ZMQ_STREAM routing id
  std::set<std::string> closed_;                   // ids we closed: their late frames are ignored
  std::deque<std::string> closed_order_;           // bounds closed_ (oldest forgotten first)

  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;     // serialises Stop()
  bool stopped_ = false;   // guarded by stop_mu_
  std::thread thread_;
  std::atomic<uint64_t> requests_{0}, not_ready_{0}, bad_requests_{0}, dropped_{0};
};

}  // namespace reflex::transport
