#define BOOST_TEST_MODULE transport_scoring_server
#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/data/monomorphic.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "transport/scoring_client.h"
#include "transport/scoring_server.h"
#include "transport_test_util.h"

using namespace std::chrono_literals;
using reflex::transport::ScoringClient;
using reflex::transport::ScoringClientOptions;
using reflex::transport::ScoringServer;
using reflex::transport::ScoringServerOptions;
using reflex::transport::testing::FakeScorer;
using reflex::transport::testing::NowUnixUs;
using reflex::transport::testing::RawPeer;
using reflex::transport::testing::ReferenceProbability;
using reflex::wire::ErrorCode;

namespace {

std::unique_ptr<ScoringServer> StartServer(std::shared_ptr<FakeScorer> scorer, ScoringServerOptions options = {}) {
  auto server = ScoringServer::Start(scorer, options);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  BOOST_TEST_REQUIRE(server.value()->endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
  return std::move(server.value());
}

std::unique_ptr<ScoringClient> Client(const std::vector<std::string>& endpoints) {
  ScoringClientOptions options;
  options.endpoints = endpoints;
  auto client = ScoringClient::Create(options);
  BOOST_REQUIRE(client.ok());
  return std::move(client.value());
}

// Rows unique to (caller, request): every value differs between callers.
std::vector<float> CallerRows(int caller, int request, size_t n_rows, uint32_t cols) {
  std::vector<float> rows(n_rows * cols);
  for (size_t r = 0; r < n_rows; ++r) {
    for (uint32_t c = 0; c < cols; ++c) {
      rows[r * cols + c] = 0.01f * caller - 0.003f * request + 0.1f * r - 0.05f * c;
    }
  }
  return rows;
}

}  // namespace

// One worker: batches form from what queues while the scorer is busy. Two workers: a collector
// also waits (up to max_wait) for company while the other worker scores.
BOOST_DATA_TEST_CASE(DynamicBatchingReturnsEachCallerExactlyItsOwnRows, boost::unit_test::data::make({1, 2}),
                     workers) {
  constexpr uint32_t kCols = 4;
  constexpr int kCallers = 12;
  constexpr int kRequestsEach = 25;
  auto scorer = std::make_shared<FakeScorer>(kCols);
  scorer->set_delay_us(1500);  // while one batch scores, the next one fills up
  ScoringServerOptions options;
  options.workers = workers;
  options.max_wait = 2000us;
  auto server = StartServer(scorer, options);

  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> callers;
  for (int caller = 0; caller < kCallers; ++caller) {
    callers.emplace_back([&, caller] {
      // No Boost.Test assertions on these threads (they are not thread-safe): count instead.
      ScoringClientOptions client_options;
      client_options.endpoints = {server->endpoint()};
      auto created = ScoringClient::Create(client_options);
      if (!created.ok()) {
        failures++;
        return;
      }
      auto& client = created.value();
      for (int k = 0; k < kRequestsEach; ++k) {
        const size_t n = 1 + (caller + k) % 4;
        std::vector<float> rows = CallerRows(caller, k, n, kCols);
        auto reply = client->Score(rows.data(), n, kCols, 5000ms);
        if (!reply.ok() || reply->error != ErrorCode::kOk || reply->probabilities.size() != n) {
          failures++;
          continue;
        }
        for (size_t r = 0; r < n; ++r) {
          // Unbatched scoring of this row alone must give the very same float.
          if (reply->probabilities[r] != ReferenceProbability(rows.data() + r * kCols, kCols)) mismatches++;
        }
        if (reply->version != 7) mismatches++;
      }
    });
  }
  for (auto& t : callers) t.join();

  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(mismatches.load() == 0);
  auto stats = server->stats();
  BOOST_TEST(stats.score_requests == uint64_t(kCallers * kRequestsEach));
  BOOST_TEST(stats.batched_requests == uint64_t(kCallers * kRequestsEach));
  BOOST_TEST(stats.max_batch_requests > 1u);           // some batches coalesced several callers
  BOOST_TEST(stats.batches < stats.batched_requests);  // fewer Score calls than requests
  size_t rows_in_calls = 0, biggest = 0;
  for (size_t n : scorer->batch_rows()) {
    rows_in_calls += n;
    biggest = std::max(biggest, n);
  }
  BOOST_TEST(rows_in_calls == stats.rows_scored);
  BOOST_TEST(biggest <= options.max_batch_rows);
  BOOST_TEST(biggest > 4u);  // more rows than any single request has
  BOOST_TEST_MESSAGE("batches " << stats.batches << " for " << stats.batched_requests << " requests, max "
                                << stats.max_batch_requests << " requests in one");
}

BOOST_AUTO_TEST_CASE(BatchCallsNeverExceedMaxBatchRows) {
  constexpr uint32_t kCols = 2;
  auto scorer = std::make_shared<FakeScorer>(kCols);
  scorer->set_delay_us(1000);
  ScoringServerOptions options;
  options.workers = 1;
  options.max_batch_rows = 10;
  options.max_wait = 3000us;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  for (uint64_t id = 1; id <= 30; ++id) peer.SendScore(id, kCols, CallerRows(1, int(id), 3, kCols));
  std::set<uint64_t> answered;
  for (int i = 0; i < 30; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->error == ErrorCode::kOk);
    BOOST_TEST(reply->probabilities.size() == 3u);
    answered.insert(reply->request_id);
  }
  BOOST_TEST(answered.size() == 30u);
  for (size_t n : scorer->batch_rows()) BOOST_TEST(n <= 9u);  // 3 whole requests of 3 rows
  BOOST_TEST(server->stats().max_batch_requests == 3u);
}

BOOST_AUTO_TEST_CASE(IdleServerScoresAtOnceUnlessToldToWaitForCompany) {
  auto scorer = std::make_shared<FakeScorer>(2);
  std::vector<float> row = {0.5f, 0.5f};
  auto time_one_request = [&](bool wait_when_idle) {
    ScoringServerOptions options;
    options.max_wait = 300ms;
    options.wait_when_idle = wait_when_idle;
    auto server = StartServer(scorer, options);
    auto client = Client({server->endpoint()});
    BOOST_REQUIRE(client->Score(row.data(), 1, 2, 5000ms).ok());  // connected and warm
    const auto start = std::chrono::steady_clock::now();
    auto reply = client->Score(row.data(), 1, 2, 5000ms);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_REQUIRE(reply.ok());
    BOOST_TEST(reply->error == ErrorCode::kOk);
    return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  };
  BOOST_TEST(time_one_request(false) < 150);   // no waiting for company that is not coming
  BOOST_TEST(time_one_request(true) >= 290);   // waited max_wait for company
}

BOOST_AUTO_TEST_CASE(BatchingOffScoresEachRequestAlone) {
  auto scorer = std::make_shared<FakeScorer>(3);
  scorer->set_delay_us(500);
  ScoringServerOptions options;
  options.batching = false;
  options.workers = 1;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  for (uint64_t id = 1; id <= 10; ++id) peer.SendScore(id, 3, CallerRows(2, int(id), 2, 3));
  for (int i = 0; i < 10; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->error == ErrorCode::kOk);
  }
  auto stats = server->stats();
  BOOST_TEST(stats.batches == 10u);
  BOOST_TEST(stats.max_batch_requests == 1u);
}

BOOST_AUTO_TEST_CASE(MalformedFramesGetErrorRepliesAndServerKeepsServing) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  const std::vector<std::string> garbage = {
      std::string("not msgpack at all"),
      std::string(),
      std::string("\xc1", 1),                      // a byte msgpack never uses
      std::string("\x93\x01\x02", 3),              // truncated array
      std::string("\xdd\xff\xff\xff\xff", 5),      // array32 claiming 4 billion elements
      std::string("\x81\xa1x\xc0", 4),             // a map that is not the envelope
  };
  for (const std::string& frame : garbage) {
    peer.SendFrame(frame);
    auto reply = peer.Receive();
    BOOST_REQUIRE_MESSAGE(reply, "no reply to garbage frame of " << frame.size() << " bytes");
    BOOST_TEST(reply->error != ErrorCode::kOk);
    BOOST_TEST(!reply->message.empty());
    BOOST_TEST(reply->probabilities.empty());
  }
  // A message type the scoring server does not serve.
  reflex::wire::Heartbeat heartbeat;
  heartbeat.sender_id = "stray";
  peer.Send(heartbeat);
  auto refused = peer.Receive();
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->error == ErrorCode::kInvalidArgument);

  // Still serving.
  std::vector<float> row = {0.5f, -0.25f, 1.0f};
  peer.SendScore(99, 3, row);
  auto reply = peer.Receive();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->error == ErrorCode::kOk);
  BOOST_TEST(reply->request_id == 99u);
  BOOST_TEST(reply->probabilities.at(0) == ReferenceProbability(row.data(), 3));

  auto stats = server->stats();
  uint64_t errors = 0;
  for (const auto& [code, n] : stats.errors) errors += n;
  BOOST_TEST(errors == garbage.size() + 1);
  BOOST_TEST(stats.requests == garbage.size() + 2);
}

BOOST_AUTO_TEST_CASE(WrongFeatureCountAndNonFiniteRowsAreRejectedWithCodes) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());

  peer.SendScore(11, 4, {1, 2, 3, 4});
  auto wrong_cols = peer.Receive();
  BOOST_REQUIRE(wrong_cols);
  BOOST_TEST(wrong_cols->error == ErrorCode::kWrongFeatureCount);
  BOOST_TEST(wrong_cols->request_id == 11u);
  BOOST_TEST_MESSAGE("wrong cols: " << wrong_cols->message);

  peer.SendScore(12, 3, {1, std::numeric_limits<float>::quiet_NaN(), 3});
  auto nan = peer.Receive();
  BOOST_REQUIRE(nan);
  BOOST_TEST(nan->error == ErrorCode::kNonFinite);
  BOOST_TEST(nan->request_id == 12u);
  BOOST_TEST_MESSAGE("nan: " << nan->message);

  peer.SendScore(13, 3, {1, std::numeric_limits<float>::infinity(), 3});
  auto inf = peer.Receive();
  BOOST_REQUIRE(inf);
  BOOST_TEST(inf->error == ErrorCode::kNonFinite);

  BOOST_TEST(scorer->calls() == 0u);  // nothing bad ever reached the scorer
  auto stats = server->stats();
  BOOST_TEST(stats.errors_with(ErrorCode::kWrongFeatureCount) == 1u);
  BOOST_TEST(stats.errors_with(ErrorCode::kNonFinite) == 2u);
}

BOOST_AUTO_TEST_CASE(OverloadShedsWithOverloadedAndQueueStaysBounded) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->CloseGate();
  ScoringServerOptions options;
  options.workers = 1;
  options.batching = false;
  options.max_queue_requests = 4;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());

  peer.SendScore(1, 2, {0.1f, 0.2f});
  BOOST_REQUIRE(scorer->WaitEntered(1));  // the worker is now stuck in request 1
  constexpr int kBurst = 20;
  for (uint64_t id = 2; id <= 1 + kBurst; ++id) peer.SendScore(id, 2, {0.1f * id, 0.2f});
  // 4 fit the queue; the other 16 are shed at once, while the scorer is still blocked.
  int shed = 0;
  for (int i = 0; i < kBurst - 4; ++i) {
    auto reply = peer.Receive(2000ms);
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->error == ErrorCode::kOverloaded);
    if (reply->error == ErrorCode::kOverloaded) shed++;
  }
  BOOST_TEST(shed == kBurst - 4);
  BOOST_TEST(server->stats().queue_requests <= 4u);
  BOOST_TEST(!peer.Receive(50ms));  // nothing else answered while blocked

  scorer->OpenGate();
  int ok = 0;
  for (int i = 0; i < 5; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    if (reply->error == ErrorCode::kOk) ok++;
  }
  BOOST_TEST(ok == 5);
  auto stats = server->stats();
  BOOST_TEST(stats.shed == uint64_t(kBurst - 4));
  BOOST_TEST(stats.errors_with(ErrorCode::kOverloaded) == uint64_t(kBurst - 4));
}

BOOST_AUTO_TEST_CASE(QueueIsAlsoBoundedByRows) {
  auto scorer = std::make_shared<FakeScorer>(1);
  scorer->CloseGate();
  ScoringServerOptions options;
  options.workers = 1;
  options.max_queue_rows = 10;
  options.inline_max_rows = 0;  // (the default) the gated scorer must hold a worker, not the I/O thread
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.SendScore(1, 1, {0.5f});
  BOOST_REQUIRE(scorer->WaitEntered(1));
  peer.SendScore(2, 1, std::vector<float>(8, 0.1f));  // 8 rows queued
  peer.SendScore(3, 1, std::vector<float>(5, 0.1f));  // 13 > 10: shed
  auto shed = peer.Receive(2000ms);
  BOOST_REQUIRE(shed);
  BOOST_TEST(shed->request_id == 3u);
  BOOST_TEST(shed->error == ErrorCode::kOverloaded);
  scorer->OpenGate();
  for (int i = 0; i < 2; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->error == ErrorCode::kOk);
  }
}

BOOST_AUTO_TEST_CASE(ScorerNotReadyAnswersNotReady) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->set_ready(false);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.SendScore(5, 2, {1, 2});
  auto reply = peer.Receive();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->error == ErrorCode::kNotReady);
  BOOST_TEST(reply->request_id == 5u);
  BOOST_TEST(reply->probabilities.empty());

  scorer->set_ready(true);
  peer.SendScore(6, 2, {1, 2});
  reply = peer.Receive();
  BOOST_REQUIRE(reply);
  BOOST_TEST(reply->error == ErrorCode::kOk);
  BOOST_TEST(server->stats().errors_with(ErrorCode::kNotReady) == 1u);
}

BOOST_AUTO_TEST_CASE(RequestsPastTheirDeadlineAreAnsweredDeadlineExceeded) {
  auto scorer = std::make_shared<FakeScorer>(2);
  ScoringServerOptions options;
  options.workers = 1;
  options.batching = false;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());

  // Already late when it arrives.
  peer.SendScore(1, 2, {1, 2}, NowUnixUs() - 1'000'000);
  auto late = peer.Receive();
  BOOST_REQUIRE(late);
  BOOST_TEST(late->error == ErrorCode::kDeadlineExceeded);
  BOOST_TEST(late->request_id == 1u);

  // Expires while queued behind a slow request.
  scorer->CloseGate();
  peer.SendScore(2, 2, {1, 2});
  BOOST_REQUIRE(scorer->WaitEntered(1));
  peer.SendScore(3, 2, {3, 4}, NowUnixUs() + 30'000);
  std::this_thread::sleep_for(100ms);
  scorer->OpenGate();
  std::map<uint64_t, ErrorCode> codes;
  for (int i = 0; i < 2; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    codes[reply->request_id] = reply->error;
  }
  BOOST_TEST(codes[2] == ErrorCode::kOk);
  BOOST_TEST(codes[3] == ErrorCode::kDeadlineExceeded);
  BOOST_TEST(scorer->calls() == 1u);  // the expired request was never scored
}

BOOST_AUTO_TEST_CASE(StopAnswersInFlightRequests) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->CloseGate();
  ScoringServerOptions options;
  options.workers = 1;
  options.batching = false;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  for (uint64_t id = 1; id <= 5; ++id) peer.SendScore(id, 2, {0.1f * id, 0.0f});
  BOOST_REQUIRE(scorer->WaitEntered(1));
  for (int i = 0; i < 200 && server->stats().score_requests < 5; ++i) std::this_thread::sleep_for(5ms);
  BOOST_REQUIRE(server->stats().score_requests == 5u);

  std::thread stopper([&] { server->Stop(); });
  std::this_thread::sleep_for(50ms);
  scorer->OpenGate();
  std::set<uint64_t> answered;
  for (int i = 0; i < 5; ++i) {
    auto reply = peer.Receive();
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->error == ErrorCode::kOk);
    answered.insert(reply->request_id);
  }
  stopper.join();
  BOOST_TEST(answered.size() == 5u);

  // Closed now: nothing answers.
  peer.SendScore(6, 2, {0, 0});
  BOOST_TEST(!peer.Receive(200ms));
  server->Stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(LabelFeedbackIsAcknowledgedAndDelivered) {
  auto scorer = std::make_shared<FakeScorer>(2);
  std::mutex mu;
  std::vector<reflex::wire::LabelFeedback> received;
  ScoringServerOptions options;
  options.label_sink = [&](const reflex::wire::LabelFeedback& label) {
    std::lock_guard<std::mutex> lock(mu);
    received.push_back(label);
    return reflex::transport::LabelOutcome::kJoined;
  };
  auto server = StartServer(scorer, options);
  auto client = Client({server->endpoint()});
  std::vector<float> rows = {1, 2, 3, 4};
  auto scored = client->Score(rows.data(), 2, 2, 2000ms);
  BOOST_REQUIRE(scored.ok());
  reflex::Status sent = client->SendLabel(scored->request_id, 1, 1, 2000ms);
  BOOST_TEST(sent.ok(), sent.ToString());
  std::lock_guard<std::mutex> lock(mu);
  BOOST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].request_id == scored->request_id);
  BOOST_TEST(received[0].row == 1u);
  BOOST_TEST(received[0].label == 1u);
  BOOST_TEST(server->stats().labels == 1u);
}

BOOST_AUTO_TEST_CASE(StatsCountRowsRequestsAndReplies) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  auto client = Client({server->endpoint()});
  size_t rows_sent = 0;
  for (int k = 0; k < 5; ++k) {
    const size_t n = k + 1;
    auto rows = CallerRows(0, k, n, 3);
    auto reply = client->Score(rows.data(), n, 3, 2000ms);
    BOOST_REQUIRE(reply.ok());
    BOOST_TEST(reply->error == ErrorCode::kOk);
    rows_sent += n;
  }
  auto stats = server->stats();
  BOOST_TEST(stats.rows_scored == rows_sent);
  BOOST_TEST(stats.score_requests == 5u);
  BOOST_TEST(stats.replies == 5u);
  BOOST_TEST(stats.errors.empty());
  BOOST_TEST(stats.shed == 0u);
}

BOOST_AUTO_TEST_CASE(LoneSmallRequestsAreScoredOnTheIoThreadAndLargerOnesByWorkers) {
  auto scorer = std::make_shared<FakeScorer>(2);
  auto count_inline = [&](size_t inline_max_rows, size_t rows_per_request) {
    ScoringServerOptions options;
    options.inline_max_rows = inline_max_rows;
    auto server = StartServer(scorer, options);
    auto client = Client({server->endpoint()});
    const std::vector<float> rows(rows_per_request * 2, 0.25f);
    for (int i = 0; i < 5; ++i) {  // one at a time: each finds the server idle
      auto reply = client->Score(rows.data(), rows_per_request, 2, 2000ms);
      BOOST_REQUIRE(reply.ok());
      BOOST_TEST(reply->error == ErrorCode::kOk);
      BOOST_TEST(reply->probabilities.size() == rows_per_request);
    }
    const auto stats = server->stats();
    BOOST_TEST(stats.rows_scored == 5 * rows_per_request);
    return stats.inline_requests;
  };
  BOOST_TEST(count_inline(16, 1) == 5u);   // no hand-off for a lone 1-row request
  BOOST_TEST(count_inline(16, 17) == 0u);  // more rows than inline_max_rows: a worker scores
  BOOST_TEST(count_inline(0, 1) == 0u);    // 0 (the default): every request goes to a worker
  BOOST_TEST(ScoringServerOptions{}.inline_max_rows == 0u);
}

BOOST_AUTO_TEST_CASE(StartRefusesBadOptions) {
  auto scorer = std::make_shared<FakeScorer>(3);
  ScoringServerOptions no_workers;
  no_workers.workers = 0;
  BOOST_TEST(!ScoringServer::Start(scorer, no_workers).ok());
  BOOST_TEST(!ScoringServer::Start(nullptr, {}).ok());
  ScoringServerOptions bad_endpoint;
  bad_endpoint.endpoint = "nonsense://x";
  auto bad = ScoringServer::Start(scorer, bad_endpoint);
  BOOST_TEST(!bad.ok());
}
