#define BOOST_TEST_MODULE transport_scoring_client
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "transport/curve_keys.h"
#include "transport/scoring_client.h"
#include "transport/scoring_server.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;
using reflex::StatusCode;
using reflex::transport::ScoringClient;
using reflex::transport::ScoringClientOptions;
using reflex::transport::ScoringServer;
using reflex::transport::ScoringServerOptions;
using reflex::transport::testing::FakeScorer;
using reflex::transport::testing::ReferenceProbability;
using reflex::wire::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<ScoringServer> StartServer(std::shared_ptr<FakeScorer> scorer, ScoringServerOptions options = {}) {
  auto server = ScoringServer::Start(scorer, options);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server.value());
}

std::unique_ptr<ScoringClient> Client(ScoringClientOptions options) {
  auto client = ScoringClient::Create(options);
  BOOST_REQUIRE_MESSAGE(client.ok(), client.status().ToString());
  return std::move(client.value());
}

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

// A replica that accepts connections and requests but never answers.
struct SilentReplica {
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::router};
  std::string endpoint;
  SilentReplica() {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
};

bool ScoresCorrectly(ScoringClient& client, float seed, std::chrono::milliseconds timeout = 3000ms) {
  std::vector<float> rows = {seed, 0.5f, -seed, 0.25f, seed * 2, 1.0f};
  auto reply = client.Score(rows.data(), 2, 3, timeout);
  if (!reply.ok()) {
    BOOST_TEST_MESSAGE("score failed: " << reply.status().ToString());
    return false;
  }
  return reply->error == ErrorCode::kOk && reply->probabilities.size() == 2 &&
         reply->probabilities[0] == ReferenceProbability(rows.data(), 3) &&
         reply->probabilities[1] == ReferenceProbability(rows.data() + 3, 3);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ClientFailsOverFromDeadEndpointToLiveOneWithoutAFailedRequest) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto live = StartServer(scorer);
  ScoringClientOptions options;
  options.endpoints = {DeadEndpoint(), live->endpoint()};
  auto client = Client(options);
  for (int i = 0; i < 20; ++i) BOOST_TEST(ScoresCorrectly(*client, 0.1f * i));
  BOOST_TEST(client->retries() >= 1u);  // the dead replica was tried, and cost a retry
  BOOST_TEST(live->stats().score_requests == 20u);
}

BOOST_AUTO_TEST_CASE(ClientFailsOverFromUnresponsiveReplica) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto live = StartServer(scorer);
  SilentReplica silent;
  ScoringClientOptions options;
  options.endpoints = {silent.endpoint, live->endpoint()};
  options.attempt_timeout = 100ms;
  auto client = Client(options);
  for (int i = 0; i < 6; ++i) BOOST_TEST(ScoresCorrectly(*client, 0.2f * i));
  BOOST_TEST(client->retries() >= 1u);
}

BOOST_AUTO_TEST_CASE(ClientKeepsScoringWhenAReplicaStopsMidStream) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto a = StartServer(scorer);
  auto b = StartServer(scorer);
  ScoringClientOptions options;
  options.endpoints = {a->endpoint(), b->endpoint()};
  options.attempt_timeout = 200ms;
  auto client = Client(options);
  for (int i = 0; i < 10; ++i) BOOST_TEST(ScoresCorrectly(*client, 0.1f * i));
  BOOST_TEST(a->stats().score_requests > 0u);  // round robin used both
  BOOST_TEST(b->stats().score_requests > 0u);
  a->Stop();
  for (int i = 0; i < 10; ++i) BOOST_TEST(ScoresCorrectly(*client, 0.3f * i));
}

BOOST_AUTO_TEST_CASE(NotReadyReplicaIsRetriedElsewhere) {
  auto cold = std::make_shared<FakeScorer>(3);
  cold->set_ready(false);
  auto warm = std::make_shared<FakeScorer>(3);
  auto a = StartServer(cold);
  auto b = StartServer(warm);
  ScoringClientOptions options;
  options.endpoints = {a->endpoint(), b->endpoint()};
  auto client = Client(options);
  for (int i = 0; i < 6; ++i) BOOST_TEST(ScoresCorrectly(*client, 0.1f * i));
}

BOOST_AUTO_TEST_CASE(DeadlineExceededWhenNoReplicaAnswers) {
  SilentReplica silent;
  ScoringClientOptions options;
  options.endpoints = {silent.endpoint, DeadEndpoint()};
  options.attempt_timeout = 100ms;
  options.max_attempts = 10;
  auto client = Client(options);
  std::vector<float> row = {1, 2, 3};
  const auto start = Clock::now();
  auto reply = client->Score(row.data(), 1, 3, 300ms);
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  BOOST_REQUIRE(!reply.ok());
  BOOST_CHECK(reply.status().code() == StatusCode::kDeadlineExceeded);
  BOOST_TEST(took_ms >= 250);
  BOOST_TEST(took_ms < 1000);  // the call's timeout bounds all its tries
  BOOST_TEST_MESSAGE(reply.status().ToString());
}

BOOST_AUTO_TEST_CASE(ServerRefusalIsAReplyNotAStatus) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  ScoringClientOptions options;
  options.endpoints = {server->endpoint()};
  auto client = Client(options);
  std::vector<float> rows = {1, 2, 3, 4};
  auto reply = client->Score(rows.data(), 1, 4, 2000ms);
  BOOST_REQUIRE(reply.ok());
  BOOST_TEST(reply->error == ErrorCode::kWrongFeatureCount);
  BOOST_TEST(client->retries() == 0u);  // not retryable
  BOOST_TEST(!client->Score(rows.data(), 0, 4, 100ms).ok());
}

BOOST_AUTO_TEST_CASE(CreateRefusesNoEndpointsAndMalformedOnes) {
  BOOST_TEST(!ScoringClient::Create(ScoringClientOptions{}).ok());
  ScoringClientOptions malformed;
  malformed.endpoints = {"tcp://127.0.0.1:1", "not an endpoint"};
  auto client = ScoringClient::Create(malformed);
  BOOST_REQUIRE(!client.ok());
  BOOST_TEST(client.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(client.status().message().find("not an endpoint") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(CurveClientWithTheServerKeyScoresAndOthersAreRefused) {
  auto server_keys = reflex::transport::GenerateCurveKeyPair();
  auto client_keys = reflex::transport::GenerateCurveKeyPair();
  auto stranger_keys = reflex::transport::GenerateCurveKeyPair();
  BOOST_REQUIRE(server_keys.ok());
  BOOST_REQUIRE(client_keys.ok());
  BOOST_REQUIRE(stranger_keys.ok());
  auto scorer = std::make_shared<FakeScorer>(3);
  ScoringServerOptions server_options;
  server_options.curve = reflex::transport::CurveServerConfig{*server_keys};
  server_options.curve_allowed_clients = {client_keys->public_key};
  auto server = StartServer(scorer, server_options);

  ScoringClientOptions good;
  good.endpoints = {server->endpoint()};
  good.curve = reflex::transport::CurveClientConfig{*client_keys, server_keys->public_key};
  auto client = Client(good);
  BOOST_TEST(ScoresCorrectly(*client, 0.4f));

  ScoringClientOptions stranger = good;
  stranger.curve = reflex::transport::CurveClientConfig{*stranger_keys, server_keys->public_key};
  stranger.max_attempts = 1;
  auto refused = Client(stranger);
  BOOST_TEST(!ScoresCorrectly(*refused, 0.4f, 300ms));

  ScoringClientOptions plain;
  plain.endpoints = {server->endpoint()};
  plain.max_attempts = 1;
  auto plain_client = Client(plain);
  BOOST_TEST(!ScoresCorrectly(*plain_client, 0.4f, 300ms));
  BOOST_TEST(server->stats().score_requests == 1u);
}
