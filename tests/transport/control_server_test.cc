#define BOOST_TEST_MODULE transport_control_server
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "transport/control_client.h"
#include "transport/control_server.h"
#include "transport/curve_keys.h"
#include "transport_test_util.h"

// The coordinator's operator endpoint: every frame gets a ControlReply, whatever its bytes.
using namespace std::chrono_literals;
using reflex::transport::CallControl;
using reflex::transport::ControlServer;
using reflex::transport::ControlServerOptions;
using reflex::wire::ControlReply;
using reflex::wire::ControlRequest;
using reflex::wire::ErrorCode;

namespace {

std::unique_ptr<ControlServer> StartServer(reflex::transport::ControlHandler handler,
                                           ControlServerOptions options = {}) {
  auto server = ControlServer::Start(std::move(handler), std::move(options));
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server.value());
}

// Echoes the command and its arguments in the body; refuses "refuse".
ControlReply EchoHandler(const ControlRequest& request) {
  ControlReply reply;
  if (request.command == "refuse") {
    reply.error = ErrorCode::kInvalidArgument;
    reply.message = "refused on purpose";
    return reply;
  }
  std::string body = "{\"command\":\"" + request.command + "\",\"args\":[";
  for (size_t i = 0; i < request.args.size(); ++i) body += (i ? ",\"" : "\"") + request.args[i] + "\"";
  reply.body_json = body + "]}";
  reply.request_id = 999;  // the server must overwrite it with the request's id
  return reply;
}

ControlRequest Request(uint64_t id, std::string command, std::vector<std::string> args = {}) {
  ControlRequest request;
  request.request_id = id;
  request.command = std::move(command);
  request.args = std::move(args);
  return request;
}

// The next raw reply frame decoded as a ControlReply.
std::optional<ControlReply> ReceiveControl(reflex::transport::testing::RawPeer& peer) {
  zmq::pollitem_t item{peer.socket().handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, 3000ms);
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  zmq::message_t frame;
  if (!peer.socket().recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
  auto decoded = reflex::wire::Decode(frame.data(), frame.size());
  if (!decoded.ok()) return std::nullopt;
  auto* reply = std::get_if<ControlReply>(&*decoded.message);
  if (!reply) return std::nullopt;
  return *reply;
}

}  // namespace

BOOST_AUTO_TEST_CASE(RoundTripCallsTheHandlerAndEchoesTheRequestId) {
  auto server = StartServer(EchoHandler);
  BOOST_TEST(server->endpoint().rfind("tcp://127.0.0.1:", 0) == 0u);
  auto reply = CallControl(server->endpoint(), Request(42, "policy-set", {"lr", "0.01"}), 3000ms);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  BOOST_TEST(reply->request_id == 42u);
  BOOST_TEST(reply->error == ErrorCode::kOk);
  BOOST_TEST(reply->body_json == R"({"command":"policy-set","args":["lr","0.01"]})");

  auto refused = CallControl(server->endpoint(), Request(43, "refuse"), 3000ms);
  BOOST_REQUIRE(refused.ok());
  BOOST_TEST(refused->request_id == 43u);
  BOOST_TEST(refused->error == ErrorCode::kInvalidArgument);
  BOOST_TEST(refused->message == "refused on purpose");
  BOOST_TEST(server->stats().requests == 2u);
  BOOST_TEST(server->stats().replies == 2u);
  BOOST_TEST(server->stats().errors == 1u);
}

BOOST_AUTO_TEST_CASE(GarbageFrameGetsAnErrorReplyAndTheServerKeepsServing) {
  auto server = StartServer(EchoHandler);
  zmq::context_t context;
  {
    reflex::transport::testing::RawPeer peer(context, server->endpoint());
    peer.SendFrame("this is not msgpack");
    auto garbage = ReceiveControl(peer);
    BOOST_REQUIRE(garbage.has_value());
    BOOST_TEST(garbage->error == ErrorCode::kMalformed);
    BOOST_TEST(!garbage->message.empty());
    BOOST_TEST(garbage->request_id == 0u);

    peer.SendFrame("");
    auto empty = ReceiveControl(peer);
    BOOST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->error != ErrorCode::kOk);

    // A well-formed message of another type is refused, naming the type.
    reflex::wire::Heartbeat heartbeat;
    heartbeat.sender_id = "someone";
    peer.Send(heartbeat);
    auto other = ReceiveControl(peer);
    BOOST_REQUIRE(other.has_value());
    BOOST_TEST(other->error == ErrorCode::kInvalidArgument);
    BOOST_TEST(other->message.find("heartbeat") != std::string::npos, other->message);

    // Same connection, then a fresh one: still served.
    peer.Send(Request(7, "status"));
    auto good = ReceiveControl(peer);
    BOOST_REQUIRE(good.has_value());
    BOOST_TEST(good->request_id == 7u);
    BOOST_TEST(good->error == ErrorCode::kOk);
  }
  auto reply = CallControl(server->endpoint(), Request(8, "status"), 3000ms);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  BOOST_TEST(reply->error == ErrorCode::kOk);
  BOOST_TEST(server->stats().errors == 3u);
}

BOOST_AUTO_TEST_CASE(HandlerExceptionBecomesAnInternalReply) {
  auto server = StartServer([](const ControlRequest& request) -> ControlReply {
    if (request.command == "heal") throw std::runtime_error("no healer registered");
    if (request.command == "weird") throw 17;
    return ControlReply{};
  });
  auto reply = CallControl(server->endpoint(), Request(5, "heal"), 3000ms);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  BOOST_TEST(reply->request_id == 5u);
  BOOST_TEST(reply->error == ErrorCode::kInternal);
  BOOST_TEST(reply->message.find("no healer registered") != std::string::npos, reply->message);
  BOOST_TEST(reply->message.find("heal") != std::string::npos, reply->message);

  auto weird = CallControl(server->endpoint(), Request(6, "weird"), 3000ms);
  BOOST_REQUIRE(weird.ok());
  BOOST_TEST(weird->error == ErrorCode::kInternal);

  auto after = CallControl(server->endpoint(), Request(7, "status"), 3000ms);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->error == ErrorCode::kOk);
}

BOOST_AUTO_TEST_CASE(LongBodyRoundTripsBeyondTheDefaultStringLimit) {
  const std::string big(200 * 1024, 'x');  // a long history is over the default 64 KiB string limit
  auto server = StartServer([&](const ControlRequest&) {
    ControlReply reply;
    reply.body_json = "\"" + big + "\"";
    return reply;
  });
  auto reply = CallControl(server->endpoint(), Request(1, "history"), 3000ms);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  BOOST_TEST(reply->body_json.size() == big.size() + 2);
}

BOOST_AUTO_TEST_CASE(StopIsIdempotentAndStopsAnswering) {
  auto server = StartServer(EchoHandler);
  const std::string endpoint = server->endpoint();
  server->Stop();
  server->Stop();
  auto reply = CallControl(endpoint, Request(1, "status"), 200ms);
  BOOST_TEST(!reply.ok());
  BOOST_TEST(reply.status().code() == reflex::StatusCode::kUnavailable);
}

BOOST_AUTO_TEST_CASE(EmptyHandlerOrBadEndpointIsRefusedAtStart) {
  BOOST_TEST(!ControlServer::Start(nullptr, {}).ok());
  ControlServerOptions options;
  options.endpoint = "not-an-endpoint";
  auto bad = ControlServer::Start(EchoHandler, options);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.status().message().find("not-an-endpoint") != std::string::npos, bad.status().message());
}

BOOST_AUTO_TEST_CASE(CurveServerAnswersOnlyClientsThatKnowItsKey) {
  auto server_keys = reflex::transport::GenerateCurveKeyPair();
  auto client_keys = reflex::transport::GenerateCurveKeyPair();
  auto stranger_keys = reflex::transport::GenerateCurveKeyPair();
  BOOST_REQUIRE(server_keys.ok() && client_keys.ok() && stranger_keys.ok());
  ControlServerOptions options;
  options.curve = reflex::transport::CurveServerConfig{*server_keys};
  options.curve_allowed_clients = {client_keys->public_key};
  auto server = StartServer(EchoHandler, options);

  reflex::transport::CurveClientConfig good{*client_keys, server_keys->public_key};
  auto reply = CallControl(server->endpoint(), Request(3, "status"), 3000ms, good);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  BOOST_TEST(reply->request_id == 3u);

  reflex::transport::CurveClientConfig stranger{*stranger_keys, server_keys->public_key};
  auto refused = CallControl(server->endpoint(), Request(4, "status"), 300ms, stranger);
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.status().code() == reflex::StatusCode::kUnavailable);
}
