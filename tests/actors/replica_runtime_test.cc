#define BOOST_TEST_MODULE actors_replica_runtime
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <limits>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <zmq.hpp>

#include "actors/replica.h"
#include "actors/replica_runtime.h"
#include "actors/wire_payload.h"
#include "core/adapter_version.h"
#include "tests/actors/actor_test_fixture.h"
#include "transport/scoring_client.h"
#include "transport/weight_publisher.h"

// A replica's runtime against a real weight bus (a WeightPublisher on its own context, standing
// in for the coordinator) and a real scoring client; then the replica actor against a stand-in
// coordinator actor.
namespace reflex::actors {
namespace {

using namespace std::chrono_literals;
using testing::ActorWorld;
using testing::Eventually;
using testing::TheBundle;
using wire::ErrorCode;
namespace tt = boost::test_tools;

constexpr size_t kDims = reflex::testing::kDims;

// The coordinator's end of the weight bus, on ephemeral ports.
struct Bus {
  zmq::context_t context{1};
  std::unique_ptr<transport::WeightPublisher> publisher;
  explicit Bus(uint64_t epoch = 1) {
    transport::WeightPublisherOptions o;
    o.sender_id = "test-coordinator";
    o.epoch = epoch;
    o.heartbeat_interval = 50ms;
    auto started = transport::WeightPublisher::Start(context, o);
    BOOST_REQUIRE_MESSAGE(started.ok(), started.status().ToString());
    publisher = std::move(*started);
  }
  ~Bus() { publisher->Stop(); }
  void Publish(const AdapterVersion& v) {
    auto sent = publisher->Publish(v);
    BOOST_REQUIRE_MESSAGE(sent.ok(), sent.status().ToString());
  }
};

// Version `version` of the bundle's adapter, epoch 1: v0 unchanged, later ones with b2 nudged
// so that they score differently.
AdapterVersion VersionOf(uint64_t version) {
  AdapterVersion v = TheBundle()->model->initial_adapter();
  v.version = version;
  v.parent = version == 0 ? 0 : version - 1;
  v.epoch = 1;
  const AdapterLayout layout(v.dims);
  for (size_t j = 0; j < v.dims.width; ++j) v.weights[layout.b2 + j] += 0.5f * static_cast<float>(version);
  v.Seal();
  return v;
}

ReplicaOptions Options(const Bus& bus, const std::string& id = "replica-test") {
  ReplicaOptions o;
  o.id = id;
  o.bundle = TheBundle();
  o.scoring_endpoint = "tcp://127.0.0.1:*";
  o.scoring_workers = 1;
  o.weights_publish = bus.publisher->publish_endpoint();
  o.weights_snapshot = bus.publisher->snapshot_endpoint();
  o.bus_heartbeat_ms = 50;
  o.sample_rows = 50;
  o.label_cache_rows = 1000;
  return o;
}

std::unique_ptr<transport::ScoringClient> Client(const std::string& endpoint) {
  transport::ScoringClientOptions o;
  o.endpoints = {endpoint};
  o.max_attempts = 1;
  o.attempt_timeout = 5000ms;
  o.connect_timeout = 2000ms;
  auto client = transport::ScoringClient::Create(o);
  BOOST_REQUIRE_MESSAGE(client.ok(), client.status().ToString());
  return std::move(*client);
}

wire::ScoreReply Score(transport::ScoringClient& client, const reflex::testing::Data& data) {
  auto reply = client.Score(data.rows.data(), data.n, static_cast<uint32_t>(kDims), 10s);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  return *reply;
}

std::vector<float> Expected(const AdapterVersion& v, const reflex::testing::Data& data) {
  auto probs = TheBundle()->model->Score(v, data.view());
  BOOST_REQUIRE_MESSAGE(probs.ok(), probs.status().ToString());
  return *probs;
}

BOOST_AUTO_TEST_CASE(AnswersNotReadyUntilTheBusDeliversAVersionThenServesIt) {
  Bus bus;
  auto runtime = ReplicaRuntime::Start(Options(bus), nullptr);
  BOOST_REQUIRE_MESSAGE(runtime.ok(), runtime.status().ToString());
  ReplicaRuntime& rt = **runtime;
  BOOST_TEST(rt.endpoint().find("tcp://127.0.0.1:") == 0u, rt.endpoint());
  BOOST_TEST(rt.ready() == false);

  auto client = Client(rt.endpoint());
  const reflex::testing::Data data = reflex::testing::MakeData(3, 5);
  const wire::ScoreReply early = Score(*client, data);
  BOOST_TEST(early.error == ErrorCode::kNotReady);
  BOOST_TEST(early.probabilities.empty());
  BOOST_TEST(rt.drift().pending_rows() == 0u);  // a refused request teaches nothing

  const AdapterVersion v0 = VersionOf(0);
  bus.Publish(v0);
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.ready(); }, 10s));
  BOOST_TEST(rt.served_version() == 0u);

  const wire::ScoreReply reply = Score(*client, data);
  BOOST_REQUIRE_EQUAL(reply.error, ErrorCode::kOk);
  BOOST_TEST(reply.version == 0u);
  BOOST_TEST(reply.probabilities == Expected(v0, data), tt::tolerance(1e-5f) << tt::per_element());
  BOOST_TEST(rt.drift().pending_rows() == 3u);
  const wire::DriftSummary summary = rt.drift().Drain("replica-test", rt.served_version(), 1);
  BOOST_TEST(summary.rows_scored == 3u);
  BOOST_REQUIRE_EQUAL(summary.features.size(), kDims);
  BOOST_TEST(summary.features[0].count == 3u);
}

BOOST_AUTO_TEST_CASE(AppliesNewerVersionsFromTheBusJoinsLabelsToScoredRowsAndAcksDroppedOnesWithWhy) {
  Bus bus;
  std::mutex mu;
  std::vector<wire::LabelFeedback> unmatched;
  auto runtime = ReplicaRuntime::Start(Options(bus), [&](const wire::LabelFeedback& l) {
    std::lock_guard<std::mutex> lock(mu);
    unmatched.push_back(l);
  });
  BOOST_REQUIRE_MESSAGE(runtime.ok(), runtime.status().ToString());
  ReplicaRuntime& rt = **runtime;
  bus.Publish(VersionOf(0));
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.ready(); }, 10s));

  const AdapterVersion v1 = VersionOf(1);
  bus.Publish(v1);
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.served_version() == 1u; }, 10s));
  auto client = Client(rt.endpoint());
  const reflex::testing::Data data = reflex::testing::MakeData(4, 6);
  const wire::ScoreReply reply = Score(*client, data);
  BOOST_REQUIRE_EQUAL(reply.error, ErrorCode::kOk);
  BOOST_TEST(reply.version == 1u);
  BOOST_TEST(reply.probabilities == Expected(v1, data), tt::tolerance(1e-5f) << tt::per_element());

  // A label for a row it scored joins here; one for a request it never saw goes to the handler.
  BOOST_TEST(client->SendLabel(reply.request_id, 2, 1, 5s).ok());
  BOOST_TEST(client->SendLabel(987654321, 0, 1, 5s).ok());  // forwarded: acknowledged OK
  // Dropped labels are acknowledged as dropped, with the reason.
  const reflex::Status duplicate = client->SendLabel(reply.request_id, 2, 0, 5s);
  BOOST_TEST(!duplicate.ok());
  BOOST_TEST(duplicate.message().find("LabelDropped") != std::string::npos, duplicate.message());
  BOOST_TEST(duplicate.message().find("duplicate") != std::string::npos, duplicate.message());
  const reflex::Status out_of_range = client->SendLabel(reply.request_id, 99, 0, 5s);
  BOOST_TEST(out_of_range.message().find("row out of range") != std::string::npos, out_of_range.message());
  BOOST_TEST_REQUIRE(Eventually(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return !unmatched.empty();
      },
      10s));
  {
    std::lock_guard<std::mutex> lock(mu);
    BOOST_REQUIRE_EQUAL(unmatched.size(), 1u);
    BOOST_TEST(unmatched[0].request_id == 987654321u);
  }
  BOOST_TEST(rt.drift().totals().labels_joined == 1u);
  const wire::DriftSummary summary = rt.drift().Drain("replica-test", rt.served_version(), 1);
  BOOST_TEST(summary.served_version == 1u);
  BOOST_TEST(summary.label_tp + summary.label_fp + summary.label_tn + summary.label_fn == 1u);
  BOOST_REQUIRE(!summary.sample_labels.empty());
  BOOST_TEST(summary.sample_labels.back() == 1);
}

BOOST_AUTO_TEST_CASE(ARowOfFloatMaxValuesIsRefusedNamingTheRowAndNeverReachesTheDriftStatistics) {
  Bus bus;
  auto runtime = ReplicaRuntime::Start(Options(bus), [](const wire::LabelFeedback&) {});
  BOOST_REQUIRE_MESSAGE(runtime.ok(), runtime.status().ToString());
  ReplicaRuntime& rt = **runtime;
  bus.Publish(VersionOf(0));
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.ready(); }, 10s));
  auto client = Client(rt.endpoint());
  // Row 0 ordinary, row 1 every feature float32-max: legal input, but the model overflows.
  std::vector<float> rows(2 * kDims, 0.25f);
  for (size_t c = 0; c < kDims; ++c) rows[kDims + c] = (c % 2 ? -1.0f : 1.0f) * std::numeric_limits<float>::max();
  auto reply = client->Score(rows.data(), 2, static_cast<uint32_t>(kDims), 10s);
  BOOST_REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  // (Before the check, this row was answered error 0 with probability NaN.)
  BOOST_TEST(reply->error == ErrorCode::kNonFiniteScore);
  BOOST_TEST(reply->message.find("rows[1]") != std::string::npos, reply->message);
  BOOST_TEST(reply->probabilities.empty());
  BOOST_TEST(rt.drift().pending_rows() == 0u);
}

BOOST_AUTO_TEST_CASE(AVersionThatDoesNotFitTheModelIsRefusedAndTheLastGoodOneKeepsServing) {
  Bus bus;
  auto runtime = ReplicaRuntime::Start(Options(bus), nullptr);
  BOOST_REQUIRE_MESSAGE(runtime.ok(), runtime.status().ToString());
  ReplicaRuntime& rt = **runtime;
  bus.Publish(VersionOf(0));
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.ready(); }, 10s));

  AdapterVersion misfit = VersionOf(1);
  misfit.dims.width += 1;
  misfit.weights.resize(AdapterWeightCount(misfit.dims), 0.0f);
  misfit.Seal();
  bus.Publish(misfit);
  BOOST_TEST_REQUIRE(Eventually([&] { return rt.bus_stats().dropped_total() >= 1u; }, 10s));
  BOOST_TEST(rt.served_version() == 0u);
  BOOST_TEST(rt.ready());
  auto client = Client(rt.endpoint());
  const wire::ScoreReply reply = Score(*client, reflex::testing::MakeData(2, 7));
  BOOST_TEST(reply.error == ErrorCode::kOk);
  BOOST_TEST(reply.version == 0u);
}

// --- The replica actor, with a stand-in coordinator ---

struct CoordinatorRecorder {
  std::atomic<int> hellos{0};
  std::atomic<uint64_t> rows{0};
  std::atomic<int> summaries{0};
  std::atomic<int> labels{0};
};

caf::behavior FakeCoordinator(caf::event_based_actor*, std::shared_ptr<CoordinatorRecorder> rec) {
  return {
      [=](hello_atom, const std::string&, const std::string&, const caf::actor&) -> uint64_t {
        ++rec->hellos;
        return 7;
      },
      [=](summary_atom, const std::string& bytes) {
        auto s = DecodePayload<wire::DriftSummary>(bytes, "summary");
        if (!s.ok()) return;
        ++rec->summaries;
        rec->rows += s->rows_scored;
      },
      [=](label_atom, const std::string&, uint64_t, uint32_t, uint8_t) { ++rec->labels; },
  };
}

nlohmann::json ReplicaStatus(ActorWorld& world, const replica_actor& replica) {
  nlohmann::json status;
  caf::scoped_actor self{world.system};
  self->request(replica, 10s, status_atom::value)
      .receive([&](std::string& json) { status = nlohmann::json::parse(json); },
               [&](caf::error& err) { BOOST_FAIL(world.system.render(err)); });
  return status;
}

struct EventCounter {
  std::mutex mu;
  std::map<std::string, int> counts;
  EventLog Log() {
    return [this](const std::string& event, const nlohmann::json&) {
      std::lock_guard<std::mutex> lock(mu);
      ++counts[event];
    };
  }
  int count(const std::string& event) {
    std::lock_guard<std::mutex> lock(mu);
    return counts[event];
  }
};

BOOST_AUTO_TEST_CASE(TheReplicaActorJoinsSendsSummariesAndForwardsUnmatchedLabels) {
  Bus bus;
  bus.Publish(VersionOf(0));
  EventCounter events;
  auto rec = std::make_shared<CoordinatorRecorder>();
  ActorWorld world;
  caf::actor coordinator = world.Keep(world.system.spawn(FakeCoordinator, rec));
  ReplicaOptions o = Options(bus);
  o.coordinator.local = coordinator;
  o.summary_interval_ms = 50;
  o.log = events.Log();
  auto replica = SpawnReplica(world.system, o);
  BOOST_REQUIRE_MESSAGE(replica.ok(), replica.status().ToString());
  world.Keep(*replica);

  BOOST_TEST_REQUIRE(Eventually([&] { return events.count("coordinator_joined") == 1; }, 10s));
  BOOST_TEST(rec->hellos == 1);
  // An empty summary doubles as a heartbeat.
  BOOST_TEST_REQUIRE(Eventually([&] { return rec->summaries > 0; }, 10s));

  // Wait for readiness through the scoring endpoint, then score 5 rows.
  const nlohmann::json status = ReplicaStatus(world, *replica);
  BOOST_TEST(status["id"] == "replica-test");
  BOOST_TEST(status["coordinator"] == true);
  auto client = Client(status["endpoint"].get<std::string>());
  const reflex::testing::Data data = reflex::testing::MakeData(5, 8);
  wire::ScoreReply reply;
  BOOST_TEST_REQUIRE(Eventually(
      [&] {
        reply = Score(*client, data);
        return reply.error == ErrorCode::kOk;
      },
      10s));
  BOOST_TEST_REQUIRE(Eventually([&] { return rec->rows >= 5u; }, 10s));
  BOOST_TEST(rec->rows == 5u);

  BOOST_TEST(client->SendLabel(123456789, 0, 1, 5s).ok());
  BOOST_TEST_REQUIRE(Eventually([&] { return rec->labels == 1; }, 10s));
}

// Regression (found by this test, since fixed): in embedded mode (CoordinatorAddress::local set),
// losing the coordinator makes the replica spin: replica.cc's down handler calls SpawnConnector,
// which (connector.cc) at once sends the same, now dead, local handle back as connect_atom; the
// connect handler monitors it, CAF delivers a down_msg immediately for an actor that is already
// gone, and the cycle repeats without end (a busy loop on the scheduler, a failed hello request
// and a "coordinator_lost" log line each time). healer.cc's down handler has the same loop.
BOOST_AUTO_TEST_CASE(LosingAnEmbeddedCoordinatorIsReportedOnceAndDoesNotSpin) {
  Bus bus;
  bus.Publish(VersionOf(0));
  EventCounter events;
  auto rec = std::make_shared<CoordinatorRecorder>();
  ActorWorld world;
  caf::actor coordinator = world.Keep(world.system.spawn(FakeCoordinator, rec));
  ReplicaOptions o = Options(bus, "replica-orphan");
  o.coordinator.local = coordinator;
  o.coordinator.reconnect_ms = 10000;  // a sane retry would not fire within this test
  o.log = events.Log();
  auto replica = SpawnReplica(world.system, o);
  BOOST_REQUIRE_MESSAGE(replica.ok(), replica.status().ToString());
  world.Keep(*replica);
  BOOST_TEST_REQUIRE(Eventually([&] { return events.count("coordinator_joined") == 1; }, 10s));

  world.StopAndWait(coordinator);
  BOOST_TEST_REQUIRE(Eventually([&] { return events.count("coordinator_lost") >= 1; }, 10s));
  // Give a loop the chance to show itself (it would log thousands of losses in this time).
  Eventually([&] { return events.count("coordinator_lost") > 3; }, 300ms);
  BOOST_TEST(events.count("coordinator_lost") == 1, "coordinator_lost logged " << events.count("coordinator_lost")
                                                                                << " times");
  // The replica keeps serving its last good version meanwhile.
  const nlohmann::json status = ReplicaStatus(world, *replica);
  auto client = Client(status["endpoint"].get<std::string>());
  wire::ScoreReply reply;
  BOOST_TEST(Eventually(
      [&] {
        reply = Score(*client, reflex::testing::MakeData(2, 9));
        return reply.error == ErrorCode::kOk;
      },
      10s));
  BOOST_TEST(reply.version == 0u);
}

}  // namespace
}  // namespace reflex::actors
