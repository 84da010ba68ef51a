#include "transport/http_probe_server.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <iterator>
#include <vector>

#include <zmq_addon.hpp>

namespace reflex::transport {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kPollInterval{50};
constexpr int kMaxReceivesPerWake = 64;   // then look at idle connections and the stop flag
constexpr size_t kMaxRememberedClosed = 4096;

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

// Where the request head ends (just past the blank line), or npos while it is incomplete.
size_t HeadEnd(const std::string& head) {
  size_t crlf = head.find("\r\n\r\n");
  size_t lf = head.find("\n\n");
  if (crlf != std::string::npos && (lf == std::string::npos || crlf + 2 < lf)) return crlf + 4;
  if (lf != std::string::npos) return lf + 2;
  return std::string::npos;
}

// Splits "GET /readyz HTTP/1.1" into its three parts; false when it is not that shape.
bool ParseRequestLine(const std::string& line, std::string* method, std::string* target) {
  const size_t a = line.find(' ');
  if (a == std::string::npos || a == 0) return false;
  const size_t b = line.find(' ', a + 1);
  if (b == std::string::npos || b == a + 1) return false;
  const std::string version = line.substr(b + 1);
  if (version.find(' ') != std::string::npos || version.rfind("HTTP/", 0) != 0) return false;
  *method = line.substr(0, a);
  *target = line.substr(a + 1, b - a - 1);
  return (*target)[0] == '/';
}

}  // namespace

HttpProbeServer::HttpProbeServer(ReadinessCheck ready, HttpProbeServerOptions options)
    : ready_(std::move(ready)), options_(std::move(options)) {}

Result<std::unique_ptr<HttpProbeServer>> HttpProbeServer::Start(ReadinessCheck ready, HttpProbeServerOptions options) {
  if (!ready) return Status::InvalidArgument("HttpProbeServer::Start: readiness check is empty");
  if (options.address.empty()) return Status::InvalidArgument("HttpProbeServer::Start: empty address");
  if (options.max_request_bytes == 0 || options.max_connections == 0) {
    return Status::InvalidArgument("HttpProbeServer::Start: max_request_bytes and max_connections must be >= 1");
  }
  std::unique_ptr<HttpProbeServer> server(new HttpProbeServer(std::move(ready), std::move(options)));
  REFLEX_RETURN_IF_ERROR(server->Bind());
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

Status HttpProbeServer::Bind() {
  const std::string wanted =
      "tcp://" + options_.address + ":" + (options_.port == 0 ? std::string("*") : std::to_string(options_.port));
  try {
    stream_.emplace(context_, zmq::socket_type::stream);
    stream_->set(zmq::sockopt::linger, 0);
    stream_->bind(wanted);
    endpoint_ = stream_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    stream_.reset();
    return Status::Unavailable("HttpProbeServer: bind " + wanted + ": " + e.what());
  }
  const size_t colon = endpoint_.rfind(':');
  try {
    port_ = static_cast<uint16_t>(std::stoul(endpoint_.substr(colon + 1)));
  } catch (const std::exception&) {
    stream_.reset();
    return Status::Internal("HttpProbeServer: cannot read the port of bound endpoint '" + endpoint_ + "'");
  }
  return Status::Ok();
}

HttpProbeServer::~HttpProbeServer() { Stop(); }

void HttpProbeServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  stream_.reset();
  context_.close();
}

HttpProbeServerStats HttpProbeServer::stats() const {
  HttpProbeServerStats s;
  s.requests = requests_.load();
  s.not_ready = not_ready_.load();
  s.bad_requests = bad_requests_.load();
  s.dropped = dropped_.load();
  return s;
}

void HttpProbeServer::Run() {
  while (!stopping_.load()) {
    zmq::pollitem_t item{stream_->handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, kPollInterval);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      if (e.num() != EINTR) std::cerr << "HttpProbeServer " << endpoint_ << ": poll failed: " << e.what() << "\n";
      continue;
    }
    if (item.revents & ZMQ_POLLIN) {
      for (int i = 0; i < kMaxReceivesPerWake; ++i) {
        std::vector<zmq::message_t> parts;
        try {
          auto got = zmq::recv_multipart(*stream_, std::back_inserter(parts), zmq::recv_flags::dontwait);
          if (!got) break;
        } catch (const zmq::error_t& e) {
          std::cerr << "HttpProbeServer " << endpoint_ << ": receive failed: " << e.what() << "\n";
          break;
        }
        if (parts.size() != 2) continue;  // ZMQ_STREAM always gives [routing id, data]
        OnFrame(parts[0].to_string(), parts[1]);
      }
    }
    CloseIdle();
  }
  stream_.reset();
}

void HttpProbeServer::OnFrame(const std::string& id, const zmq::message_t& data) {
  if (closed_.count(id)) {
    // Bytes or the disconnect notice of a connection this server already answered and closed.
    if (data.size() == 0) closed_.erase(id);
    return;
  }
  auto it = connections_.find(id);
  if (data.size() == 0) {
    if (it != connections_.end()) {  // the peer went away before a whole request
      connections_.erase(it);
      return;
    }
    // A new connection (ZMQ_STREAM's connect notice): counted from now for the idle timeout.
  }
  if (it == connections_.end()) {
    // At the bound, the connection held longest leaves (it is the likeliest to be a silent
    // half-open one): a flood of idle connections cannot lock a real probe out.
    if (connections_.size() >= options_.max_connections) EvictOldest();
    it = connections_.emplace(id, Connection{std::string(), Clock::now()}).first;
  }
  std::string& head = it->second.head;
  // Keep at most the limit plus a blank line's worth: enough to tell a whole head from a long one.
  const size_t room = options_.max_request_bytes + 4 - std::min(head.size(), options_.max_request_bytes + 4);
  head.append(static_cast<const char*>(data.data()), std::min(data.size(), room));

  const size_t end = HeadEnd(head);
  if (end == std::string::npos) {
    if (head.size() > options_.max_request_bytes) {
      Reply(id, Response{400, "bad request: request head over " + std::to_string(options_.max_request_bytes) +
                                  " bytes\n"},
            false);
    }
    return;
  }
  if (end > options_.max_request_bytes) {
    Reply(id, Response{400, "bad request: request head over " + std::to_string(options_.max_request_bytes) + " bytes\n"},
          false);
    return;
  }
  bool head_only = false;
  const Response response = Route(head.substr(0, end), &head_only);
  Reply(id, response, head_only);
}

HttpProbeServer::Response HttpProbeServer::Route(const std::string& head, bool* head_only) {
  std::string line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::string method, target;
  if (!ParseRequestLine(line, &method, &target)) {
    return {400, "bad request: expected a request line like 'GET /healthz HTTP/1.0'\n"};
  }
  const std::string path = target.substr(0, target.find('?'));
  const bool metrics = path == "/metrics" && options_.metrics;
  if (path != "/healthz" && path != "/readyz" && !metrics) {
    return {404, "not found: " + path + " (try /healthz or /readyz)\n"};
  }
  if (method != "GET" && method != "HEAD") return {405, "method not allowed: " + method + " (use GET)\n"};
  *head_only = method == "HEAD";
  if (path == "/healthz") return {200, "ok\n"};
  if (metrics) {
    try {
      return {200, options_.metrics()};
    } catch (const std::exception& e) {
      return {500, std::string("metrics failed: ") + e.what() + "\n"};
    }
  }
  std::pair<bool, std::string> readiness;
  try {
    readiness = ready_();
  } catch (const std::exception& e) {
    readiness = {false, std::string("readiness check threw: ") + e.what()};
  } catch (...) {
    readiness = {false, "readiness check threw"};
  }
  if (readiness.first) return {200, "ready\n"};
  return {503, "not ready: " + readiness.second + "\n"};
}

void HttpProbeServer::Reply(const std::string& id, const Response& response, bool head_only) {
  requests_++;
  if (response.status == 503) not_ready_++;
  if (response.status == 400) bad_requests_++;
  std::string bytes = "HTTP/1.0 " + std::to_string(response.status) + " " + Reason(response.status) +
                      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                      std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n";
  if (!head_only) bytes += response.body;
  try {
    // dontwait throughout: a peer that does not read must not stall the probe thread.
    if (stream_->send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      stream_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t& e) {
    std::cerr << "HttpProbeServer " << endpoint_ << ": reply send failed: " << e.what() << "\n";
  }
  Close(id);
}

void HttpProbeServer::Close(const std::string& id) {
  connections_.erase(id);
  try {
    if (stream_->send(zmq::buffer(id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      stream_->send(zmq::message_t(), zmq::send_flags::dontwait);  // ZMQ_STREAM: close the connection
    }
  } catch (const zmq::error_t& e) {
    std::cerr << "HttpProbeServer " << endpoint_ << ": close failed: " << e.what() << "\n";
  }
  closed_.insert(id);
  closed_order_.push_back(id);
  while (closed_order_.size() > kMaxRememberedClosed) {
    closed_.erase(closed_order_.front());
    closed_order_.pop_front();
  }
}

void HttpProbeServer::EvictOldest() {
  auto oldest = connections_.begin();
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->second.since < oldest->second.since) oldest = it;
  }
  if (oldest == connections_.end()) return;
  dropped_++;
  Close(std::string(oldest->first));
}

void HttpProbeServer::CloseIdle() {
  const auto cutoff = Clock::now() - options_.idle_timeout;
  std::vector<std::string> idle;
  for (const auto& [id, connection] : connections_) {
    if (connection.since < cutoff) idle.push_back(id);
  }
  for (const std::string& id : idle) {
    dropped_++;
    Close(id);
  }
}

}  // namespace reflex::transport
