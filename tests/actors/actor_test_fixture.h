// Shared fixtures for the actor tests: a small trained model bundle written to a temporary
// folder (built once per test binary), an actor system that stops every actor a test spawned,
// and helpers to talk to a coordinator the way reflexctl and replicas do (wire payloads).
// Header-only; test code only. Every wait is bounded.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/interfaces.h"
#include "actors/wire_payload.h"
#include "core/csv.h"
#include "core/welford.h"
#include "model/model_bundle.h"
#include "model/trainer.h"
#include "tests/model/synthetic_data.h"
#include "wire/messages.h"

// Boost.Test prints wire error codes by name in failed checks.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<reflex::wire::ErrorCode> {
  void operator()(std::ostream& os, reflex::wire::ErrorCode code) { os << reflex::wire::ErrorCodeName(code); }
};
}  // namespace boost::test_tools::tt_detail

namespace reflex::actors::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A fresh folder under the system's temporary folder; removed (with its contents) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& stem) {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            (stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::vector<std::string> FeatureNames() {
  std::vector<std::string> names;
  for (size_t f = 0; f < reflex::testing::kDims; ++f) names.push_back("f" + std::to_string(f));
  return names;
}

// The built-in MLP over kDims features, trained a little on synthetic rows, written as a bundle
// (rule: f0 > 2 => positive; FIDI monitors f0 and f1) and loaded back. Built once per binary.
inline std::shared_ptr<const ModelBundle> TheBundle() {
  static TempDir dir("reflex_actor_test_bundle");
  static const std::shared_ptr<const ModelBundle> bundle = [] {
    auto model = HealableModel::CreateMlp(FeatureNames(), 5);
    BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    const reflex::testing::Data clean = reflex::testing::MakeData(400, 1);
    TrainConfig config;
    config.epochs = 3;
    Status trained = TrainMlp(**model, clean.view(), clean.labels.data(), config);
    BOOST_REQUIRE_MESSAGE(trained.ok(), trained.ToString());
    LabeledData data;
    data.feature_names = FeatureNames();
    data.features = clean.rows;
    data.labels = clean.labels;
    Status written = WriteModelBundle(dir.str(), **model, 5, data, "rule f0_high: f0 > 2 => positive\n", {0, 1});
    BOOST_REQUIRE_MESSAGE(written.ok(), written.ToString());
    auto loaded = LoadModelBundle(dir.str());
    BOOST_REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
    return std::make_shared<const ModelBundle>(std::move(*loaded));
  }();
  return bundle;
}

// An actor system whose destructor first stops every actor registered with Keep(), so that the
// system's shutdown (which waits for all actors) never hangs on a ticking actor.
struct ActorWorld {
  caf::actor_system_config config;
  caf::actor_system system;
  std::vector<caf::actor> kept;

  ActorWorld() : system(Quiet(config)) {}
  ~ActorWorld() {
    for (const caf::actor& a : kept) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  template <typename Handle>
  Handle Keep(Handle handle) {
    kept.push_back(caf::actor_cast<caf::actor>(handle));
    return handle;
  }

  // Stops one actor and waits (at most 10 s) until it is down.
  void StopAndWait(const caf::actor& a) {
    caf::scoped_actor self{system};
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(std::chrono::seconds(10)) >> [] {});
    BOOST_REQUIRE_MESSAGE(down, "actor did not stop within 10 s");
  }

 private:
  static caf::actor_system_config& Quiet(caf::actor_system_config& c) {
    c.set("logger.verbosity", caf::atom("quiet"));
    return c;
  }
};

// Sends one operator command (wire-encoded, like the control server does) and returns the reply.
inline wire::ControlReply Control(ActorWorld& world, const coordinator_actor& coordinator, const std::string& command,
                                  std::vector<std::string> args = {}) {
  static uint64_t next_id = 1;
  wire::ControlRequest request;
  request.request_id = next_id++;
  request.command = command;
  request.args = std::move(args);
  wire::ControlReply reply;
  reply.error = wire::ErrorCode::kInternal;
  reply.message = "no reply";
  wire::Limits limits;
  limits.max_string = limits.max_message_bytes;
  caf::scoped_actor self{world.system};
  self->request(coordinator, std::chrono::seconds(10), control_atom::value, EncodePayload(request))
      .receive(
          [&](std::string& bytes) {
            auto decoded = DecodePayload<wire::ControlReply>(bytes, "control reply", limits);
            BOOST_REQUIRE_MESSAGE(decoded.ok(), decoded.status().ToString());
            reply = std::move(*decoded);
          },
          [&](caf::error& err) { BOOST_FAIL("control " << command << ": " << world.system.render(err)); });
  BOOST_TEST(reply.request_id == request.request_id);
  return reply;
}

// The body of a successful reply; fails the test on a refusal.
inline nlohmann::json Body(const wire::ControlReply& reply) {
  BOOST_REQUIRE_MESSAGE(reply.error == wire::ErrorCode::kOk,
                        "refused: " << wire::ErrorCodeName(reply.error) << ": " << reply.message);
  return nlohmann::json::parse(reply.body_json);
}

inline nlohmann::json StatusOf(ActorWorld& world, const coordinator_actor& coordinator) {
  return Body(Control(world, coordinator, "status"));
}

// Polls `done` every 20 ms until it holds or `limit` passes; returns whether it held.
inline bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A replica's drift summary of n synthetic rows whose feature 0 moved by `shift` (its rows are
// also its unlabelled sample), wire-encoded as replicas send it.
inline wire::DriftSummary DriftedSummary(const std::string& replica, size_t n, uint64_t seed, float shift) {
  reflex::testing::Data d = reflex::testing::MakeData(n, seed);
  for (size_t i = 0; i < n; ++i) d.rows[i * reflex::testing::kDims] += shift;
  wire::DriftSummary s;
  s.replica_id = replica;
  s.cols = static_cast<uint32_t>(reflex::testing::kDims);
  FeatureStats stats(reflex::testing::kDims);
  stats.AddRows(d.rows.data(), n);
  s.features = stats.features();
  s.rows_scored = n;
  s.rule_fired = {0};
  s.rule_conflicts = {0};
  s.sample_rows = d.rows;
  s.sample_labels.assign(n, -1);
  s.window_start_unix_ms = 1;
  s.window_end_unix_ms = 2;
  return s;
}

// The events in status.recent_events with this name.
inline std::vector<nlohmann::json> EventsNamed(const nlohmann::json& status, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : status["recent_events"]) {
    if (e.value("event", "") == name) out.push_back(e);
  }
  return out;
}

}  // namespace reflex::actors::testing
