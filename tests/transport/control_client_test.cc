#define BOOST_TEST_MODULE transport_control_client
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "transport/control_client.h"
#include "transport_test_util.h"

// CallControl never hangs: an absent or silent coordinator costs the timeout, then Unavailable.
using namespace std::chrono_literals;
using reflex::StatusCode;
using reflex::transport::CallControl;
using reflex::wire::ControlRequest;
using Clock = std::chrono::steady_clock;

namespace {

// An endpoint nobody listens on: bind an ephemeral port, read it back, close the socket.
std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

ControlRequest Status(uint64_t id) {
  ControlRequest request;
  request.request_id = id;
  request.command = "status";
  return request;
}

// A ROUTER that takes frames and answers with whatever the test tells it to (or nothing).
struct FakeCoordinator {
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::router};
  std::string endpoint;
  FakeCoordinator() {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  // Waits (bounded) for one request and answers it with `payload`.
  void AnswerOnce(const std::string& payload) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 3000ms);
    if (!(item.revents & ZMQ_POLLIN)) return;
    zmq::message_t identity, request;
    if (!socket.recv(identity)) return;
    if (!socket.recv(request)) return;
    socket.send(identity, zmq::send_flags::sndmore);
    socket.send(zmq::buffer(payload));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(UnreachableCoordinatorFailsWithinTimeout) {
  const std::string endpoint = DeadEndpoint();
  const auto start = Clock::now();
  auto reply = CallControl(endpoint, Status(1), 300ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.status().code() == StatusCode::kUnavailable);
  BOOST_TEST(reply.status().message() ==
             "no reply from the coordinator at " + endpoint + " within 300 ms (is it running?)");
  BOOST_TEST(took >= 290);
  BOOST_TEST(took < 1300);
}

BOOST_AUTO_TEST_CASE(CoordinatorThatNeverAnswersTimesOut) {
  FakeCoordinator silent;
  const auto start = Clock::now();
  auto reply = CallControl(silent.endpoint, Status(2), 250ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.status().code() == StatusCode::kUnavailable);
  BOOST_TEST(reply.status().message().find(silent.endpoint) != std::string::npos);
  BOOST_TEST(took < 1250);
}

BOOST_AUTO_TEST_CASE(MalformedReplyIsAnErrorNamingIt) {
  FakeCoordinator coordinator;
  std::thread answer([&] { coordinator.AnswerOnce("garbage, not msgpack"); });
  auto reply = CallControl(coordinator.endpoint, Status(3), 3000ms);
  answer.join();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.status().code() == StatusCode::kCorruption);
  BOOST_TEST(reply.status().message().find("malformed reply") != std::string::npos, reply.status().message());
  BOOST_TEST(reply.status().message().find(coordinator.endpoint) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ReplyOfAnotherTypeIsAnErrorNamingIt) {
  FakeCoordinator coordinator;
  reflex::wire::ScoreReply wrong;
  wrong.request_id = 4;
  std::thread answer([&] { coordinator.AnswerOnce(reflex::wire::Encode(wrong)); });
  auto reply = CallControl(coordinator.endpoint, Status(4), 3000ms);
  answer.join();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.status().code() == StatusCode::kCorruption);
  BOOST_TEST(reply.status().message().find("score_reply") != std::string::npos, reply.status().message());
}

BOOST_AUTO_TEST_CASE(MalformedEndpointIsInvalidArgument) {
  auto reply = CallControl("nonsense", Status(5), 100ms);
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(reply.status().message().find("nonsense") != std::string::npos);
}
