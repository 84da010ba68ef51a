#define BOOST_TEST_MODULE transport_http_probe_server
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <algorithm>

#include "transport/http_probe_server.h"

// The probe endpoint as Kubernetes sees it: plain TCP, one HTTP/1.0 exchange per connection.
using namespace std::chrono_literals;
using reflex::transport::HttpProbeServer;
using reflex::transport::HttpProbeServerOptions;
using Clock = std::chrono::steady_clock;

namespace {

// Connects to 127.0.0.1:port, sends `request`, and reads until the server closes the
// connection (bounded by `timeout`). Returns everything read; "" when the connect failed.
std::string Exchange(uint16_t port, const std::string& request, std::chrono::milliseconds timeout = 3000ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return "";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (an oversized request): read what it said
    sent += static_cast<size_t>(n);
  }
  std::string response;
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (Clock::now() < deadline) {
    pollfd item{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&item, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;  // closed by the server (or reset): the reply is complete
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

std::string Get(uint16_t port, const std::string& path) {
  return Exchange(port, "GET " + path + " HTTP/1.0\r\nHost: localhost\r\nUser-Agent: kube-probe/1.29\r\n\r\n");
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.0 ", 0) != 0 || response.size() < 12) return -1;
  return std::stoi(response.substr(9, 3));
}

std::string BodyOf(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Readiness the test can flip.
struct Readiness {
  std::mutex mu;
  bool ready = false;
  std::string reason = "no adapter version loaded yet";
  std::pair<bool, std::string> operator()() {
    std::lock_guard<std::mutex> lock(mu);
    return {ready, reason};
  }
  void Set(bool r, std::string why) {
    std::lock_guard<std::mutex> lock(mu);
    ready = r;
    reason = std::move(why);
  }
};

std::unique_ptr<HttpProbeServer> StartServer(std::shared_ptr<Readiness> readiness, HttpProbeServerOptions options = {}) {
  auto server = HttpProbeServer::Start([readiness] { return (*readiness)(); }, options);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server.value());
}

}  // namespace

BOOST_AUTO_TEST_CASE(HealthzAnswersOkWhileTheProcessIsAlive) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  BOOST_TEST(server->port() != 0);
  const std::string response = Get(server->port(), "/healthz");
  BOOST_TEST(StatusOf(response) == 200, response);
  BOOST_TEST(BodyOf(response) == "ok\n");
  BOOST_TEST(response.find("Content-Length: 3\r\n") != std::string::npos, response);
  BOOST_TEST(response.find("Connection: close\r\n") != std::string::npos, response);
}

BOOST_AUTO_TEST_CASE(ReadyzFlipsFrom503WithTheReasonTo200) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  const std::string before = Get(server->port(), "/readyz");
  BOOST_TEST(StatusOf(before) == 503, before);
  BOOST_TEST(BodyOf(before) == "not ready: no adapter version loaded yet\n");

  readiness->Set(true, "");
  const std::string after = Get(server->port(), "/readyz");
  BOOST_TEST(StatusOf(after) == 200, after);
  BOOST_TEST(BodyOf(after) == "ready\n");

  readiness->Set(false, "coordinator unreachable for 12 s");
  const std::string again = Get(server->port(), "/readyz?verbose=1");
  BOOST_TEST(StatusOf(again) == 503, again);
  BOOST_TEST(BodyOf(again) == "not ready: coordinator unreachable for 12 s\n");
  BOOST_TEST(server->stats().not_ready == 2u);
}

BOOST_AUTO_TEST_CASE(UnknownPathIs404AndOtherMethodsAre405) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  BOOST_TEST(StatusOf(Get(server->port(), "/nope")) == 404);
  BOOST_TEST(StatusOf(Exchange(server->port(), "POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n")) == 405);
  const std::string head = Exchange(server->port(), "HEAD /healthz HTTP/1.1\r\n\r\n");
  BOOST_TEST(StatusOf(head) == 200, head);
  BOOST_TEST(BodyOf(head).empty());
}

BOOST_AUTO_TEST_CASE(OversizedOrMalformedRequestIs400AndTheServerKeepsServing) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  const std::string oversized =
      Exchange(server->port(), "GET /healthz HTTP/1.0\r\nX-Padding: " + std::string(9000, 'a') + "\r\n\r\n");
  BOOST_TEST(StatusOf(oversized) == 400, oversized.substr(0, 200));
  const std::string garbage = Exchange(server->port(), "hello there\r\n\r\n");
  BOOST_TEST(StatusOf(garbage) == 400, garbage);
  const std::string no_version = Exchange(server->port(), "GET /healthz\r\n\r\n");
  BOOST_TEST(StatusOf(no_version) == 400, no_version);
  BOOST_TEST(server->stats().bad_requests == 3u);
  BOOST_TEST(StatusOf(Get(server->port(), "/healthz")) == 200);
}

BOOST_AUTO_TEST_CASE(RequestSplitAcrossSegmentsIsAnswered) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  const std::string first = "GET /heal", second = "thz HTTP/1.0\r\n\r\n";
  BOOST_REQUIRE(::send(fd, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size()));
  std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE(::send(fd, second.data(), second.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(second.size()));
  std::string response;
  char buffer[1024];
  for (int i = 0; i < 100; ++i) {
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, 3000) <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  BOOST_TEST(StatusOf(response) == 200, response);
}

BOOST_AUTO_TEST_CASE(SilentConnectionIsClosedAfterTheIdleTimeout) {
  auto readiness = std::make_shared<Readiness>();
  HttpProbeServerOptions options;
  options.idle_timeout = 200ms;
  auto server = StartServer(readiness, options);
  const auto start = Clock::now();
  const std::string response = Exchange(server->port(), "GET /healthz HTTP/1.0\r\n", 5000ms);  // no blank line
  BOOST_TEST(response.empty());
  BOOST_TEST((Clock::now() - start < 3000ms));
  BOOST_TEST(server->stats().dropped >= 1u);
}

BOOST_AUTO_TEST_CASE(StopIsIdempotentAndClosesThePort) {
  auto readiness = std::make_shared<Readiness>();
  auto server = StartServer(readiness);
  const uint16_t port = server->port();
  server->Stop();
  server->Stop();
  BOOST_TEST(Get(port, "/healthz").empty());
}

BOOST_AUTO_TEST_CASE(PortInUseIsUnavailableNamingIt) {
  auto readiness = std::make_shared<Readiness>();
  auto first = StartServer(readiness);
  HttpProbeServerOptions options;
  options.port = first->port();
  auto second = HttpProbeServer::Start([] { return std::make_pair(true, std::string()); }, options);
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST((second.status().code() == reflex::StatusCode::kUnavailable), second.status().ToString());
  BOOST_TEST(second.status().message().find(std::to_string(first->port())) != std::string::npos);
}

// Issue 19: 300 half-open connections (connected, silent) held open must not make probes fail:
// at the bound the oldest held connection is evicted, so a new probe is always served.
BOOST_AUTO_TEST_CASE(ProbesAreServedWhile300HalfOpenConnectionsAreHeld) {
  auto readiness = std::make_shared<Readiness>();
  readiness->Set(true, "");
  auto server = StartServer(readiness);  // default bound (128) and idle timeout (5 s)
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      idle.push_back(fd);
    } else {
      ::close(fd);
    }
  }
  BOOST_TEST(idle.size() == 300u);
  std::this_thread::sleep_for(300ms);  // the server has seen every connect
  int ok = 0;
  for (int i = 0; i < 30; ++i) ok += StatusOf(Get(server->port(), "/readyz")) == 200 ? 1 : 0;
  for (int fd : idle) ::close(fd);
  BOOST_TEST(ok == 30);
  BOOST_TEST(server->stats().dropped >= 300u - 128u);
}
