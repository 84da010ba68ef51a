#define BOOST_TEST_MODULE actors_coordinator_control
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/coordinator.h"
#include "actors/healer.h"
#include "actors/wire_payload.h"
#include "core/adapter_version.h"
#include "core/version_file.h"
#include "tests/actors/actor_test_fixture.h"

// Drives a real coordinator actor (registry on disk, weight bus on ephemeral ports) with
// wire-encoded operator commands, the way the control server does, and with drift summaries
// and heal results the way replicas and healers do.
namespace reflex::actors {
namespace {

using namespace std::chrono_literals;
using testing::ActorWorld;
using testing::Body;
using testing::Control;
using testing::DriftedSummary;
using testing::Eventually;
using testing::EventsNamed;
using testing::StatusOf;
using testing::TempDir;
using testing::TheBundle;
using wire::ErrorCode;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CoordinatorOptions Options(const std::string& registry_dir) {
  CoordinatorOptions o;
  o.id = "coordinator-test";
  o.bundle = TheBundle();
  o.registry_dir = registry_dir;
  o.weights_publish = "tcp://127.0.0.1:*";
  o.weights_snapshot = "tcp://127.0.0.1:*";
  o.bus_heartbeat_ms = 100;
  o.healer_heartbeat_ms = 60000;  // fake healers send no heartbeats
  o.heal_timeout_ms = 60000;
  return o;
}

coordinator_actor Spawn(ActorWorld& world, const CoordinatorOptions& options) {
  auto coordinator = SpawnCoordinator(world.system, options);
  BOOST_REQUIRE_MESSAGE(coordinator.ok(), coordinator.status().ToString());
  return world.Keep(*coordinator);
}

void SendSummary(ActorWorld& world, const coordinator_actor& coordinator, const wire::DriftSummary& summary) {
  caf::scoped_actor self{world.system};
  self->send(coordinator, summary_atom::value, EncodePayload(summary));
}

// A stand-in healer: records every job it gets and answers at once, either declining or with a
// candidate (the base adapter with one bias nudged) and the positive rate it measured on the
// job's rows, exactly as a real healer reports it.
struct FakeHealerLog {
  std::mutex mu;
  std::vector<wire::HealJob> jobs;
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return jobs.size();
  }
  wire::HealJob job(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    return jobs.at(i);
  }
};

caf::behavior FakeHealer(caf::event_based_actor*, std::shared_ptr<FakeHealerLog> log, bool accept) {
  return {
      [=](heal_atom, const std::string& bytes) -> std::string {
        wire::HealResult r;
        r.healer_id = "fake";
        auto job = DecodePayload<wire::HealJob>(bytes, "heal job");
        if (!job.ok()) {
          r.reason = "error: " + job.status().message();
          return EncodePayload(r);
        }
        {
          std::lock_guard<std::mutex> lock(log->mu);
          log->jobs.push_back(*job);
        }
        r.job_id = job->job_id;
        if (!accept) {
          r.reason = "fake healer declines";
          return EncodePayload(r);
        }
        AdapterVersion candidate = job->base;
        candidate.weights[AdapterLayout(candidate.dims).b2] += 0.001f;
        candidate.version = job->new_version;
        candidate.parent = job->base.version;
        candidate.epoch = job->epoch;
        candidate.Seal();
        const size_t n = job->cols ? job->rows.size() / job->cols : 0;
        auto probs = TheBundle()->model->Score(candidate, BatchView{job->rows.data(), n, job->cols});
        if (!probs.ok()) {
          r.reason = "error: " + probs.status().message();
          return EncodePayload(r);
        }
        size_t positives = 0;
        for (float p : *probs) positives += p >= 0.5f;
        r.metrics["positive_rate"] = n ? static_cast<double>(positives) / static_cast<double>(n) : 0.0;
        r.accepted = true;
        r.reason = "fake: accepted";
        r.candidate = candidate;
        return EncodePayload(r);
      },
  };
}

caf::actor JoinFakeHealer(ActorWorld& world, const coordinator_actor& coordinator,
                          const std::shared_ptr<FakeHealerLog>& log, bool accept = true) {
  caf::actor healer = world.Keep(world.system.spawn(FakeHealer, log, accept));
  caf::scoped_actor self{world.system};
  self->send(coordinator, healer_atom::value, std::string("fake"), std::string("cpu"), uint32_t{1}, healer);
  return healer;
}

// Manual mode, small heals, any positive rate admitted; then drifted rows from a fake replica.
void PrepareManualHeal(ActorWorld& world, const coordinator_actor& c, size_t rows) {
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  Body(Control(world, c, "policy-set", {"min_rows", "50"}));
  Body(Control(world, c, "policy-set", {"positive_rate_tolerance", "100"}));  // the fake candidate flags as v0 does
  for (size_t i = 0; i < rows / 100; ++i) SendSummary(world, c, DriftedSummary("replica-x", 100, 10 + i, 3.0f));
}

// Runs an operator heal with an accepting fake healer and waits until version `expect` is active.
void HealToVersion(ActorWorld& world, const coordinator_actor& c, uint64_t expect) {
  const nlohmann::json started = Body(Control(world, c, "heal"));
  BOOST_TEST(started["healer"] == "fake");
  const bool published = Eventually(
      [&] { return StatusOf(world, c)["current_version"].get<uint64_t>() == expect; }, 20s);
  BOOST_REQUIRE_MESSAGE(published, "version " << expect << " not active: " << StatusOf(world, c).dump());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

BOOST_AUTO_TEST_CASE(AFreshCoordinatorReportsEpochOneAndVersionZero) {
  TempDir registry("coordinator_control_registry");
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["epoch"].get<uint64_t>() == 1u);
  BOOST_TEST(status["current_version"].get<uint64_t>() == 0u);
  BOOST_TEST(status["latest_version"].get<uint64_t>() == 0u);
  BOOST_TEST(status["mode"] == "auto");
  BOOST_TEST(status["pinned"].is_null());
  BOOST_TEST(status["heal_in_flight"] == false);
  BOOST_TEST(status["replicas"].empty());
  BOOST_TEST(status["healers"].empty());
  // The bus endpoints are the resolved ones, not the wildcard.
  const std::string pub = status["weights_publish"];
  BOOST_TEST(Contains(pub, "tcp://127.0.0.1:"), pub);
  BOOST_TEST(!Contains(pub, "*"), pub);
  BOOST_TEST(EventsNamed(status, "coordinator_started").size() == 1u);

  const nlohmann::json history = Body(Control(world, c, "history"));
  BOOST_REQUIRE_EQUAL(history["versions"].size(), 1u);
  BOOST_TEST(history["versions"][0]["version"].get<uint64_t>() == 0u);
  BOOST_TEST(history["versions"][0]["epoch"].get<uint64_t>() == 1u);
  BOOST_TEST(history["versions"][0]["active"] == true);
  BOOST_TEST(history["versions"][0]["reason"] == "initial");
  BOOST_TEST(ReadFile((registry.path() / "EPOCH").string()) == "1\n");
}

BOOST_AUTO_TEST_CASE(PolicySetRefusesUnknownKeysAndBadValuesAndAppliesGoodOnes) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  const std::string lr_before = Body(Control(world, c, "policy-get"))["policy"]["lr"];

  wire::ControlReply r = Control(world, c, "policy-set", {"no_such_key", "1"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "no_such_key"), r.message);

  r = Control(world, c, "policy-set", {"lr", "fast"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "'fast' is not a number"), r.message);

  r = Control(world, c, "policy-set", {"lr", "5"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "out of range"), r.message);

  r = Control(world, c, "policy-set", {"min_rows", "100000"});  // more than window_rows
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "window_rows"), r.message);

  r = Control(world, c, "policy-set", {"mode", "sometimes"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "sometimes"), r.message);

  r = Control(world, c, "policy-set", {"lr"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "takes 2 arguments, got 1"), r.message);

  // Nothing of the refused commands stuck.
  BOOST_TEST(Body(Control(world, c, "policy-get"))["policy"]["lr"] == lr_before);

  const nlohmann::json set = Body(Control(world, c, "policy-set", {"lr", "0.0125"}));
  BOOST_TEST(std::strtod(set["policy"]["lr"].get<std::string>().c_str(), nullptr) == 0.0125);
  const nlohmann::json got = Body(Control(world, c, "policy-get"));
  BOOST_TEST(std::strtod(got["policy"]["lr"].get<std::string>().c_str(), nullptr) == 0.0125);
  BOOST_TEST(got["policy"].contains("min_rows"));

  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  BOOST_TEST(StatusOf(world, c)["mode"] == "manual");
  BOOST_TEST(EventsNamed(StatusOf(world, c), "policy_set").size() == 2u);
}

BOOST_AUTO_TEST_CASE(FreezeAndUnfreezeChangeTheModeAndFreezeBlocksHeals) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  nlohmann::json body = Body(Control(world, c, "freeze"));
  BOOST_TEST(body["mode"] == "frozen");
  BOOST_TEST(body["pinned"].is_null());
  BOOST_TEST(StatusOf(world, c)["mode"] == "frozen");
  BOOST_TEST(Body(Control(world, c, "policy-get"))["policy"]["mode"] == "frozen");

  const wire::ControlReply heal = Control(world, c, "heal");
  BOOST_TEST(heal.error == ErrorCode::kNotReady);
  BOOST_TEST(Contains(heal.message, "frozen"), heal.message);

  body = Body(Control(world, c, "unfreeze"));
  BOOST_TEST(body["mode"] == "auto");
  BOOST_TEST(StatusOf(world, c)["mode"] == "auto");

  const wire::ControlReply extra = Control(world, c, "freeze", {"now"});
  BOOST_TEST(extra.error == ErrorCode::kInvalidArgument);
}

// Regression (found by this test, since fixed): coordinator_control.cc, HandleControl's
// freeze/unfreeze branch sets the mode to kAuto on "unfreeze" whatever it was before "freeze".
// reflexctl documents unfreeze as "undo freeze", so an operator who had set mode=manual (no
// automatic heals), froze and unfroze ends up in auto mode and the coordinator starts heals on
// its own.
BOOST_AUTO_TEST_CASE(UnfreezeRestoresTheModeInForceBeforeFreeze) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  Body(Control(world, c, "freeze"));
  const nlohmann::json body = Body(Control(world, c, "unfreeze"));
  BOOST_TEST(body["mode"] == "manual");
}

BOOST_AUTO_TEST_CASE(RollbackAtVersionZeroAndBadVersionsAreRefused) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  wire::ControlReply r = Control(world, c, "rollback");
  BOOST_TEST(r.error == ErrorCode::kNotReady);
  BOOST_TEST(Contains(r.message, "version 0 is active"), r.message);

  r = Control(world, c, "rollback", {"abc"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "'abc' is not a version number"), r.message);

  r = Control(world, c, "rollback", {"7"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "version 7 is not in the registry"), r.message);

  r = Control(world, c, "pin");
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);

  // Pinning the active version changes no weights and publishes nothing new.
  const nlohmann::json pinned = Body(Control(world, c, "pin", {"0"}));
  BOOST_TEST(pinned["version"].get<uint64_t>() == 0u);
  BOOST_TEST(pinned["weights_of"].get<uint64_t>() == 0u);
  nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["pinned"].get<uint64_t>() == 0u);
  BOOST_TEST(status["latest_version"].get<uint64_t>() == 0u);
  r = Control(world, c, "heal");
  BOOST_TEST(r.error == ErrorCode::kNotReady);
  BOOST_TEST(Contains(r.message, "pinned"), r.message);

  const nlohmann::json unpinned = Body(Control(world, c, "unpin"));
  BOOST_TEST(unpinned["pinned"].is_null());
  BOOST_TEST(StatusOf(world, c)["pinned"].is_null());
  BOOST_TEST(Body(Control(world, c, "history"))["versions"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(UnknownCommandsAndUndecodableRequestsAreRefused) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  wire::ControlReply r = Control(world, c, "explode");
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "unknown command"), r.message);

  r = Control(world, c, "status", {"extra"});
  BOOST_TEST(r.error == ErrorCode::kInvalidArgument);
  BOOST_TEST(Contains(r.message, "takes 0 arguments, got 1"), r.message);

  // Bytes that are not a control request get a reply that says so, and the actor lives on.
  caf::scoped_actor self{world.system};
  for (const std::string& bytes : {std::string("garbage"), EncodePayload(DriftedSummary("r", 1, 1, 0))}) {
    std::string answer;
    self->request(c, 10s, control_atom::value, bytes)
        .receive([&](std::string& reply) { answer = reply; },
                 [&](caf::error& err) { BOOST_FAIL(world.system.render(err)); });
    auto decoded = DecodePayload<wire::ControlReply>(answer, "control reply");
    BOOST_REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
    BOOST_TEST(decoded->error != ErrorCode::kOk);
    BOOST_TEST(Contains(decoded->message, "control request"), decoded->message);
  }
  BOOST_TEST(StatusOf(world, c)["epoch"].get<uint64_t>() == 1u);
}

BOOST_AUTO_TEST_CASE(HealWithoutAHealerOrWithoutRowsIsRefusedAsNotReady) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  wire::ControlReply r = Control(world, c, "heal");
  BOOST_TEST(r.error == ErrorCode::kNotReady);
  BOOST_TEST(Contains(r.message, "no live healer"), r.message);

  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["healers"].size() == 1u; }, 10s));
  r = Control(world, c, "heal");
  BOOST_TEST(r.error == ErrorCode::kNotReady);
  BOOST_TEST(Contains(r.message, "only 0 sampled rows"), r.message);
  BOOST_TEST(log->count() == 0u);
}

BOOST_AUTO_TEST_CASE(SummariesShowInStatusAndBadOnesAreRefusedNamingTheReplica) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  SendSummary(world, c, DriftedSummary("replica-x", 100, 1, 3.0f));
  SendSummary(world, c, DriftedSummary("replica-y", 50, 2, 3.0f));
  // Well-formed on the wire, but 3 columns wide where the model takes 10.
  wire::DriftSummary narrow;
  narrow.replica_id = "replica-narrow";
  narrow.cols = 3;
  narrow.rows_scored = 2;
  narrow.features.assign(3, RunningStats{2, 0.0, 1.0});
  narrow.rule_fired = {0};
  narrow.rule_conflicts = {0};
  narrow.sample_rows = {1, 2, 3, 4, 5, 6};
  narrow.sample_labels = {-1, -1};
  SendSummary(world, c, narrow);
  {
    caf::scoped_actor self{world.system};
    self->send(c, summary_atom::value, std::string("not a summary"));
  }
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["drift"]["rows"].get<uint64_t>() == 150u);
  BOOST_TEST(status["drift"]["feature"] == "f0");
  BOOST_TEST(status["drift"]["max_z"].get<double>() > 1.0);
  BOOST_TEST(status["drift"]["drift"] == true);
  BOOST_REQUIRE_EQUAL(status["replicas"].size(), 2u);
  BOOST_TEST(status["replicas"][0]["id"] == "replica-x");
  BOOST_TEST(status["replicas"][0]["rows_scored"].get<uint64_t>() == 100u);
  const auto refused = EventsNamed(status, "summary_refused");
  BOOST_REQUIRE_EQUAL(refused.size(), 2u);
  BOOST_TEST(Contains(refused[0]["error"].get<std::string>(), "replica-narrow"), refused[0].dump());
  BOOST_TEST(Contains(refused[1]["error"].get<std::string>(), "drift summary"), refused[1].dump());
}

BOOST_AUTO_TEST_CASE(AnAcceptedCandidateIsPublishedAndCanBeRolledBack) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  PrepareManualHeal(world, c, 300);
  HealToVersion(world, c, 1);

  // The job the healer got: the active version as base, the fleet's rows, the policy.
  BOOST_REQUIRE_EQUAL(log->count(), 1u);
  const wire::HealJob job = log->job(0);
  BOOST_TEST(job.base.version == 0u);
  BOOST_TEST(job.new_version == 1u);
  BOOST_TEST(job.epoch == 1u);
  BOOST_TEST(job.cols == testing::FeatureNames().size());
  // It learns from the drifted rows the replica sampled (f0 moved by +3 from a clean mean of
  // about 0.75): at most the 300 sent, all of them drifted.
  const size_t n = job.rows.size() / job.cols;
  BOOST_TEST(job.rows.size() % job.cols == 0u);
  BOOST_TEST(n >= 50u);
  BOOST_TEST(n <= 300u);
  double f0 = 0;
  for (size_t i = 0; i < n; ++i) f0 += job.rows[i * job.cols];
  BOOST_TEST(f0 / static_cast<double>(n) > 3.0);
  BOOST_TEST(job.labels.empty());  // no labelled rows: no labels at all
  BOOST_TEST(job.policy.at("min_rows") == "50");

  nlohmann::json history = Body(Control(world, c, "history"));
  BOOST_REQUIRE_EQUAL(history["versions"].size(), 2u);
  const nlohmann::json& v1 = history["versions"][1];
  BOOST_TEST(v1["version"].get<uint64_t>() == 1u);
  BOOST_TEST(v1["parent"].get<uint64_t>() == 0u);
  BOOST_TEST(v1["active"] == true);
  BOOST_TEST(Contains(v1["reason"].get<std::string>(), "heal: operator"), v1.dump());
  BOOST_TEST(v1["metrics"]["job"].get<double>() == 1.0);
  BOOST_TEST(EventsNamed(StatusOf(world, c), "version_published").size() == 1u);

  // Rollback publishes v0's weights under the next number.
  const nlohmann::json rolled = Body(Control(world, c, "rollback"));
  BOOST_TEST(rolled["version"].get<uint64_t>() == 2u);
  BOOST_TEST(rolled["weights_of"].get<uint64_t>() == 0u);
  history = Body(Control(world, c, "history"));
  BOOST_REQUIRE_EQUAL(history["versions"].size(), 3u);
  BOOST_TEST(history["versions"][2]["weights_of"].get<uint64_t>() == 0u);
  BOOST_TEST(history["versions"][2]["parent"].get<uint64_t>() == 1u);
  BOOST_TEST(history["versions"][2]["checksum"] != history["versions"][1]["checksum"]);
  BOOST_TEST(StatusOf(world, c)["current_version"].get<uint64_t>() == 2u);
}

BOOST_AUTO_TEST_CASE(ADeclinedHealIsRecordedAndPublishesNothing) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log, /*accept=*/false);
  PrepareManualHeal(world, c, 300);
  Body(Control(world, c, "heal"));
  BOOST_TEST_REQUIRE(Eventually([&] { return !EventsNamed(StatusOf(world, c), "heal_rejected").empty(); }, 20s));
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["current_version"].get<uint64_t>() == 0u);
  BOOST_TEST(status["heal_in_flight"] == false);
  BOOST_TEST(EventsNamed(status, "heal_rejected")[0]["reason"] == "fake healer declines");
  // The healer is free again: the next heal is accepted for dispatch.
  BOOST_TEST(Control(world, c, "heal").error == ErrorCode::kOk);
}

BOOST_AUTO_TEST_CASE(ARestartedCoordinatorTakesTheNextEpochAndKeepsItsVersions) {
  TempDir registry("coordinator_control_restart");
  {
    ActorWorld world;
    const coordinator_actor c = Spawn(world, Options(registry.str()));
    auto log = std::make_shared<FakeHealerLog>();
    JoinFakeHealer(world, c, log);
    PrepareManualHeal(world, c, 300);
    HealToVersion(world, c, 1);
    world.StopAndWait(caf::actor_cast<caf::actor>(c));
  }
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["epoch"].get<uint64_t>() == 2u);
  BOOST_TEST(status["current_version"].get<uint64_t>() == 1u);
  BOOST_TEST(status["latest_version"].get<uint64_t>() == 1u);
  const nlohmann::json history = Body(Control(world, c, "history"));
  BOOST_REQUIRE_EQUAL(history["versions"].size(), 2u);
  BOOST_TEST(history["versions"][1]["epoch"].get<uint64_t>() == 1u);  // recorded under its own epoch
  BOOST_TEST(history["versions"][1]["active"] == true);
  BOOST_TEST(ReadFile((registry.path() / "EPOCH").string()) == "2\n");
  // Rollback works across the restart: v1's parent is v0.
  const nlohmann::json rolled = Body(Control(world, c, "rollback"));
  BOOST_TEST(rolled["version"].get<uint64_t>() == 2u);
  BOOST_TEST(rolled["weights_of"].get<uint64_t>() == 0u);
}

BOOST_AUTO_TEST_CASE(OperatorStateAndAnInterruptedHealSurviveARestart) {
  TempDir registry("coordinator_control_operator_state");
  {
    ActorWorld world;
    const coordinator_actor c = Spawn(world, Options(registry.str()));
    auto log = std::make_shared<FakeHealerLog>();
    JoinFakeHealer(world, c, log);
    PrepareManualHeal(world, c, 300);    // mode manual, min_rows 50, tolerance 100
    HealToVersion(world, c, 1);          // job 1
    Body(Control(world, c, "pin", {"1"}));
    Body(Control(world, c, "policy-set", {"cooldown_ms", "1234"}));
    Body(Control(world, c, "freeze"));
    world.StopAndWait(caf::actor_cast<caf::actor>(c));
  }
  {
    ActorWorld world;
    const coordinator_actor c = Spawn(world, Options(registry.str()));
    const nlohmann::json status = StatusOf(world, c);
    BOOST_TEST(status["mode"] == "frozen");
    BOOST_TEST(status["pinned"] == 1u);
    const nlohmann::json policy = Body(Control(world, c, "policy-get"))["policy"];
    BOOST_TEST(policy["cooldown_ms"] == "1234");
    BOOST_TEST(policy["min_rows"] == "50");
    Body(Control(world, c, "unfreeze"));
    BOOST_TEST(StatusOf(world, c)["mode"] == "manual");  // the mode before the freeze, across the restart
    Body(Control(world, c, "unpin"));
    // A heal in flight when the coordinator dies: a healer that never answers.
    caf::actor silent = world.Keep(world.system.spawn([]() -> caf::behavior {
      return {[](heal_atom, const std::string&) -> caf::result<std::string> { return caf::delegated<std::string>(); }};
    }));
    {
      caf::scoped_actor self{world.system};
      self->send(c, healer_atom::value, std::string("silent"), std::string("cpu"), uint32_t{1}, silent);
    }
    for (size_t i = 0; i < 3; ++i) SendSummary(world, c, DriftedSummary("replica-x", 100, 40 + i, 3.0f));
    const nlohmann::json started = Body(Control(world, c, "heal"));
    BOOST_TEST(started["job_id"].get<uint64_t>() == 2u);  // job ids continue after the restart
    world.StopAndWait(caf::actor_cast<caf::actor>(c));
  }
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["heal_in_flight"] == false);
  BOOST_TEST(status["interrupted_heal"]["job_id"] == 2u);
  BOOST_TEST(status["interrupted_heal"]["outcome"] == "abandoned");
  const auto interrupted = EventsNamed(status, "heal_interrupted");
  BOOST_REQUIRE_EQUAL(interrupted.size(), 1u);
  BOOST_TEST(interrupted[0]["trigger"] == "operator");
  BOOST_TEST(status["mode"] == "manual");
  BOOST_TEST(status["pinned"].is_null());
}

// Issue 19: a healer that reconnects gets a proxy with the same actor address, so the late
// down_msg of its old connection (arriving after the new join) used to clear the new handle, and
// its heartbeats, ignored without a handle, never restored it: lost for good. A heartbeat now
// restores the handle from its sender.
BOOST_AUTO_TEST_CASE(AHealerWhoseOldConnectionsDownArrivesAfterItRejoinedIsBackAtItsNextHeartbeat) {
  TempDir registry("reflex_coord_late_down");
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  caf::actor healer = world.Keep(world.system.spawn([c](caf::event_based_actor* self) -> caf::behavior {
    return {
        [=](tick_atom) { self->send(c, beat_atom::value, std::string("late"), uint32_t{0}); },
        [](heal_atom, const std::string&) -> caf::result<std::string> { return caf::delegated<std::string>(); },
    };
  }));
  {
    caf::scoped_actor self{world.system};
    self->send(c, healer_atom::value, std::string("late"), std::string("cpu"), uint32_t{1}, healer);
  }
  auto alive = [&] {
    const nlohmann::json healers = StatusOf(world, c)["healers"];
    return healers.size() == 1u && healers[0]["alive"] == true;
  };
  BOOST_TEST_REQUIRE(Eventually(alive, 10s));
  caf::anon_send(caf::actor_cast<caf::actor>(c), caf::down_msg{healer.address(), caf::exit_reason::remote_link_unreachable});
  BOOST_TEST_REQUIRE(Eventually([&] { return !alive(); }, 10s));
  const bool back = Eventually([&] {
    caf::anon_send(healer, tick_atom::value);
    return alive();
  }, 10s);
  BOOST_TEST(back, "the healer stayed lost: " << StatusOf(world, c)["healers"].dump());
  BOOST_TEST(!EventsNamed(StatusOf(world, c), "healer_back").empty());
}

// A heal whose only healer's link goes down waits for a healer instead of being abandoned at
// once (links flap, e.g. while another TLS peer dies), and goes to that healer when it rejoins.
BOOST_AUTO_TEST_CASE(AHealWhoseHealersLinkDropsWaitsAndGoesToTheHealerWhenItRejoins) {
  TempDir registry("reflex_coord_heal_waits");
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  caf::actor silent = world.Keep(world.system.spawn([]() -> caf::behavior {
    return {[](heal_atom, const std::string&) -> caf::result<std::string> { return caf::delegated<std::string>(); }};
  }));
  auto join = [&] {
    caf::scoped_actor self{world.system};
    self->send(c, healer_atom::value, std::string("flaky"), std::string("cpu"), uint32_t{1}, silent);
  };
  join();
  PrepareManualHeal(world, c, 300);
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["healers"].size() == 1u; }, 10s));
  Body(Control(world, c, "heal"));
  caf::anon_send(caf::actor_cast<caf::actor>(c), caf::down_msg{silent.address(), caf::exit_reason::remote_link_unreachable});
  BOOST_TEST_REQUIRE(Eventually([&] { return !EventsNamed(StatusOf(world, c), "heal_waiting").empty(); }, 10s));
  BOOST_TEST(StatusOf(world, c)["heal_in_flight"] == true);
  BOOST_TEST(EventsNamed(StatusOf(world, c), "heal_abandoned").empty());
  join();
  BOOST_TEST(Eventually([&] { return EventsNamed(StatusOf(world, c), "heal_dispatched").size() == 2u; }, 10s));
  const auto dispatched = EventsNamed(StatusOf(world, c), "heal_dispatched");
  BOOST_TEST(dispatched.back()["healer"] == "flaky");
  BOOST_TEST(dispatched.back()["attempt"] == 2u);
}

BOOST_AUTO_TEST_CASE(AReplicaFencedAboveTheCoordinatorsEpochMakesItTakeAHigherOneAndIsReported) {
  TempDir registry("coordinator_control_fleet_epoch");
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(registry.str()));
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  nlohmann::json status = StatusOf(world, c);
  BOOST_REQUIRE(status["epoch"].get<uint64_t>() == 1u);
  const uint64_t checksum = status["current_checksum"].get<uint64_t>();
  // In step: (epoch, version, checksum) all match.
  wire::DriftSummary in_step = DriftedSummary("replica-a", 10, 1, 0.0f);
  in_step.served_epoch = 1;
  in_step.served_checksum = checksum;
  in_step.highest_epoch = 1;
  SendSummary(world, c, in_step);
  // Same version number, other weights: not ready although the number matches.
  wire::DriftSummary other_weights = in_step;
  other_weights.replica_id = "replica-b";
  other_weights.served_checksum = checksum ^ 1;
  other_weights.served_epoch = 0;  // unknown: no epoch claim
  SendSummary(world, c, other_weights);
  status = StatusOf(world, c);
  BOOST_REQUIRE_EQUAL(status["replicas"].size(), 2u);
  BOOST_TEST(status["replicas"][0]["ready"] == true);
  BOOST_TEST(status["replicas"][1]["ready"] == false);
  BOOST_TEST(status["epoch"].get<uint64_t>() == 1u);

  // A replica whose fence saw epoch 7 (this registry lost its EPOCH, or another coordinator ran).
  wire::DriftSummary fenced = in_step;
  fenced.replica_id = "replica-c";
  fenced.served_epoch = 7;
  fenced.highest_epoch = 7;
  SendSummary(world, c, fenced);
  status = StatusOf(world, c);
  BOOST_TEST(status["epoch"].get<uint64_t>() == 8u);
  BOOST_TEST(ReadFile((registry.path() / "EPOCH").string()) == "8\n");
  BOOST_TEST(EventsNamed(status, "epoch_advanced").size() == 1u);
  BOOST_TEST(status["replicas"][0]["ready"] == false);  // it still serves epoch 1's stamp

  // An epoch beyond the registry's maximum is not followed: reported, and the replica shown fenced.
  fenced.highest_epoch = kMaxEpoch + 5;
  SendSummary(world, c, fenced);
  SendSummary(world, c, fenced);
  status = StatusOf(world, c);
  BOOST_TEST(status["epoch"].get<uint64_t>() == 8u);
  BOOST_TEST(EventsNamed(status, "epoch_not_advanced").size() == 1u);
  BOOST_TEST(status["replicas"][2]["fenced"] == true);
  BOOST_TEST(status["replicas"][2]["ready"] == false);
}

// Regression (found by this test, since fixed): the coordinator's DriftWindow is created once
// (coordinator.cc, CoordinatorBehavior: st.drift.emplace(..., row_capacity = policy.window_rows
// at start)) and never resized, so a later `policy-set window_rows` does not change how many rows
// the window keeps. After raising window_rows to 2000 and min_rows to 1000 (both accepted), the
// window still holds only the original 500 sampled rows and every heal is refused with "only 500
// sampled rows so far; a heal needs 1000", however many rows the replicas send.
BOOST_AUTO_TEST_CASE(RaisingWindowRowsLetsAHealLearnFromThatManyRows) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  Body(Control(world, c, "policy-set", {"window_rows", "2000"}));
  Body(Control(world, c, "policy-set", {"min_rows", "1000"}));
  Body(Control(world, c, "policy-set", {"positive_rate_tolerance", "100"}));  // the fake candidate flags as v0 does
  // 3200 drifted rows; the coordinator drops the rows it sampled before it saw the drift (once
  // 1000 rows are in the window: the first 1200), which leaves 2000.
  for (int i = 0; i < 8; ++i) SendSummary(world, c, DriftedSummary("replica-x", 400, 20 + i, 3.0f));
  const wire::ControlReply r = Control(world, c, "heal");
  BOOST_TEST(r.error == ErrorCode::kOk, r.message);
  if (r.error == ErrorCode::kOk) {
    BOOST_TEST_REQUIRE(Eventually([&] { return log->count() == 1u; }, 20s));
    BOOST_TEST(log->job(0).rows.size() >= 1000 * testing::FeatureNames().size());
  }
}

// Regression (found by this test, since fixed): coordinator.cc, MaybeHeal (drift onset, added
// with "drift onset resets the heal rows"): the summary handler first merges a summary into the
// DriftWindow (its sample rows included) and only then calls MaybeHeal, which on onset calls
// st.drift->ClearRows(). So the rows of the very summary that revealed the drift, which are rows
// of the drifted world, are thrown away with the old ones; and since onset is only evaluated once
// the window holds min_rows rows, every row sampled up to that point goes too, even when all of
// it is drifted. Here one replica sends 300 drifted rows (min_rows 50): the heal is refused with
// "only 0 sampled rows so far" until another summary arrives.
BOOST_AUTO_TEST_CASE(TheRowsThatRevealedTheDriftAreKeptForTheHeal) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  Body(Control(world, c, "policy-set", {"mode", "manual"}));
  Body(Control(world, c, "policy-set", {"min_rows", "50"}));
  Body(Control(world, c, "policy-set", {"positive_rate_tolerance", "100"}));  // the fake candidate flags as v0 does
  SendSummary(world, c, DriftedSummary("replica-x", 300, 50, 3.0f));
  const nlohmann::json status = StatusOf(world, c);
  BOOST_TEST(status["drift"]["drift"] == true);
  BOOST_TEST(EventsNamed(status, "drift_detected").size() == 1u);
  const wire::ControlReply r = Control(world, c, "heal");
  BOOST_TEST(r.error == ErrorCode::kOk, r.message);
}

BOOST_AUTO_TEST_CASE(AutoModeStartsAHealWhenTheMergedDriftCrossesTheThreshold) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  Body(Control(world, c, "policy-set", {"min_rows", "150"}));
  Body(Control(world, c, "policy-set", {"positive_rate_tolerance", "100"}));  // the fake candidate flags as v0 does
  // Not drifted: no heal, however many rows.
  for (int i = 0; i < 3; ++i) SendSummary(world, c, DriftedSummary("replica-calm", 100, 30 + i, 0.0f));
  BOOST_TEST(StatusOf(world, c)["heal_in_flight"] == false);
  BOOST_TEST(log->count() == 0u);
  // Drifted rows from another replica push the merged z over the threshold.
  for (int i = 0; i < 6; ++i) SendSummary(world, c, DriftedSummary("replica-x", 100, 40 + i, 6.0f));
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["current_version"].get<uint64_t>() == 1u; }, 20s),
                     StatusOf(world, c).dump());
  BOOST_TEST(log->count() == 1u);
  const nlohmann::json history = Body(Control(world, c, "history"));
  BOOST_TEST(Contains(history["versions"][1]["reason"].get<std::string>(), "heal: fidi"),
             history["versions"][1].dump());
  BOOST_TEST(Contains(history["versions"][1]["reason"].get<std::string>(), "feature=f0"),
             history["versions"][1].dump());
}

// A real healer actor (LibTorch on CPU, in detached workers) joined in embedded mode: an operator
// heal ends either in a published version 1 or in a recorded rejection; never a hang or crash.
BOOST_AUTO_TEST_CASE(ARealHealerEitherPublishesOrIsRejected) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  HealerOptions ho;
  ho.id = "healer-real";
  ho.bundle = TheBundle();
  ho.coordinator.local = caf::actor_cast<caf::actor>(c);
  ho.device = "cpu";
  ho.heartbeat_ms = 100;
  world.Keep(world.system.spawn(HealerBehavior, ho));
  BOOST_TEST_REQUIRE(Eventually(
      [&] {
        const nlohmann::json s = StatusOf(world, c);
        return s["healers"].size() == 1u && s["healers"][0]["alive"] == true;
      },
      10s));
  BOOST_TEST(StatusOf(world, c)["healers"][0]["id"] == "healer-real");
  BOOST_TEST(StatusOf(world, c)["healers"][0]["device"] == "cpu");

  PrepareManualHeal(world, c, 300);
  const nlohmann::json started = Body(Control(world, c, "heal"));
  BOOST_TEST(started["healer"] == "healer-real");
  nlohmann::json status;
  const bool settled = Eventually(
      [&] {
        status = StatusOf(world, c);
        return status["current_version"].get<uint64_t>() == 1u ||
               (!EventsNamed(status, "heal_rejected").empty() && status["heal_in_flight"] == false);
      },
      90s);
  BOOST_TEST_REQUIRE(settled, status.dump());
  BOOST_TEST_MESSAGE("real heal ended with: " << status["recent_events"].back().dump());
  BOOST_TEST(EventsNamed(status, "heal_abandoned").empty());
  BOOST_TEST(EventsNamed(status, "heal_attempt_failed").empty());
}

}  // namespace

// --- The heal controller's decisions, carried out by the coordinator actor ---

// Labelled outcomes of `served` against version 0 on the same rows: `rows` labelled rows, 20%
// positive, where only the served version is right on `served_only` rows and only version 0 on
// `anchor_only` rows.
std::vector<uint64_t> LabelCells(uint64_t rows, uint64_t served_only, uint64_t anchor_only) {
  std::vector<uint64_t> cells(8, 0);
  for (uint64_t i = 0; i < rows; ++i) {
    const bool positive = i % 5 == 0;
    bool served = positive, anchor = positive;
    if (i >= rows - served_only - anchor_only) {
      if (i < rows - anchor_only) anchor = !positive;
      else served = !positive;
    }
    ++cells[(positive ? 4 : 0) + (served ? 2 : 0) + (anchor ? 1 : 0)];
  }
  return cells;
}

// Drifts until the controller heals, and waits for v1.
void DriftUntilHealed(ActorWorld& world, const coordinator_actor& c) {
  Body(Control(world, c, "policy-set", {"min_rows", "150"}));
  Body(Control(world, c, "policy-set", {"positive_rate_tolerance", "100"}));  // the fake candidate flags as v0 does
  Body(Control(world, c, "policy-set", {"cooldown_ms", "0"}));
  for (int i = 0; i < 4; ++i) SendSummary(world, c, DriftedSummary("replica-x", 100, 40 + i, 6.0f));
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["current_version"].get<uint64_t>() == 1u; }, 20s),
                     StatusOf(world, c).dump());
}

BOOST_AUTO_TEST_CASE(TheCoordinatorRollsBackAHealedVersionThatIsWorseThanVersionZeroOnTheSameRows) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  DriftUntilHealed(world, c);
  Body(Control(world, c, "policy-set", {"cooldown_ms", "100000000"}));  // no more heals: only the health decision is left
  wire::DriftSummary s = DriftedSummary("replica-x", 100, 60, 6.0f);
  s.served_version = 1;
  s.label_cells = LabelCells(300, 5, 40);  // McNemar z = -5.9
  SendSummary(world, c, s);
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["current_version"].get<uint64_t>() >= 2u; }, 20s),
                     StatusOf(world, c).dump());
  const nlohmann::json history = Body(Control(world, c, "history"));
  const nlohmann::json& v2 = history["versions"][2];
  BOOST_TEST(v2["metrics"]["weights_of"].get<double>() == 0.0, v2.dump());
  BOOST_TEST(Contains(v2["reason"].get<std::string>(), "automatic rollback"), v2.dump());
}

BOOST_AUTO_TEST_CASE(TheCoordinatorKeepsAHealedVersionThatIsNotWorseThanVersionZero) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log, /*accept=*/true);
  DriftUntilHealed(world, c);
  Body(Control(world, c, "policy-set", {"cooldown_ms", "100000000"}));  // the controller may not heal again
  wire::DriftSummary s = DriftedSummary("replica-x", 100, 61, 6.0f);
  s.served_version = 1;
  s.label_cells = LabelCells(300, 30, 5);
  SendSummary(world, c, s);
  SendSummary(world, c, DriftedSummary("replica-x", 100, 62, 6.0f));
  std::this_thread::sleep_for(200ms);  // the actor has handled both summaries (they are answered in order)
  BOOST_TEST(StatusOf(world, c)["current_version"].get<uint64_t>() == 1u);
}

BOOST_AUTO_TEST_CASE(WhenTheDriftEndsTheCoordinatorReturnsTheFleetToVersionZero) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  DriftUntilHealed(world, c);
  Body(Control(world, c, "policy-set", {"cooldown_ms", "100000000"}));
  Body(Control(world, c, "policy-set", {"drift_gone_batches", "3"}));  // 300 rows
  for (int i = 0; i < 2; ++i) {
    wire::DriftSummary clean = DriftedSummary("replica-x", 100, 70 + i, 0.0f);
    clean.served_version = 1;
    SendSummary(world, c, clean);
  }
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(StatusOf(world, c)["current_version"].get<uint64_t>() == 1u);  // 200 quiet rows: not yet
  wire::DriftSummary clean = DriftedSummary("replica-x", 100, 72, 0.0f);
  clean.served_version = 1;
  SendSummary(world, c, clean);
  BOOST_TEST_REQUIRE(Eventually([&] { return StatusOf(world, c)["current_version"].get<uint64_t>() == 2u; }, 20s),
                     StatusOf(world, c).dump());
  const nlohmann::json v2 = Body(Control(world, c, "history"))["versions"][2];
  BOOST_TEST(v2["metrics"]["weights_of"].get<double>() == 0.0, v2.dump());
  BOOST_TEST(Contains(v2["reason"].get<std::string>(), "drift gone"), v2.dump());
}

BOOST_AUTO_TEST_CASE(AnOperatorsRollbackIsNotUndoneByTheController) {
  ActorWorld world;
  const coordinator_actor c = Spawn(world, Options(""));
  auto log = std::make_shared<FakeHealerLog>();
  JoinFakeHealer(world, c, log);
  DriftUntilHealed(world, c);
  Body(Control(world, c, "policy-set", {"cooldown_ms", "100000000"}));
  BOOST_TEST_REQUIRE(Control(world, c, "rollback", {"1"}).error == ErrorCode::kOk);  // v2 = weights of v1, by hand
  wire::DriftSummary s = DriftedSummary("replica-x", 100, 80, 6.0f);
  s.served_version = 2;
  s.label_cells = LabelCells(300, 5, 40);
  SendSummary(world, c, s);
  for (int i = 0; i < 6; ++i) SendSummary(world, c, DriftedSummary("replica-x", 100, 81 + i, 0.0f));
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(StatusOf(world, c)["current_version"].get<uint64_t>() == 2u);
}

}  // namespace reflex::actors
