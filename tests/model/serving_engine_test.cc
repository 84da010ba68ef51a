#define BOOST_TEST_MODULE model_serving_engine
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/adapter_version.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/serving_engine.h"
#include "model/trainer.h"
#include "synthetic_data.h"

namespace reflex {
namespace {

using namespace std::chrono_literals;

using testing::Data;
using testing::kDims;
using testing::MakeData;

struct World {
  std::shared_ptr<HealableModel> model;
  std::shared_ptr<const HealCalibration> calibration;
};

// One small trained model for the whole binary; engines share it read-only.
const World& Trained() {
  static const World world = [] {
    std::vector<std::string> names;
    for (size_t f = 0; f < kDims; ++f) names.push_back("f" + std::to_string(f));
    auto model = HealableModel::CreateMlp(names, 21);
    BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    Data clean = MakeData(1000, 1);
    TrainConfig config;
    config.epochs = 5;
    Status trained = TrainMlp(**model, clean.view(), clean.labels.data(), config);
    BOOST_REQUIRE_MESSAGE(trained.ok(), trained.ToString());
    auto cal = Calibrate(**model, clean.view(), clean.labels.data(), nullptr);
    BOOST_REQUIRE_MESSAGE(cal.ok(), cal.status().ToString());
    return World{*model, std::make_shared<const HealCalibration>(*cal)};
  }();
  return world;
}

std::unique_ptr<ServingEngine> NewEngine() {
  auto engine = ServingEngine::Create(Trained().model, Trained().model->initial_adapter());
  BOOST_REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
  return std::move(engine).value();
}

// A valid version `version` whose outputs differ from v0's: b2 shifted along the sign pattern.
AdapterVersion Variant(const AdapterVersion& v0, uint64_t version) {
  AdapterVersion v = v0;
  v.version = version;
  v.parent = version == 0 ? 0 : version - 1;
  const AdapterLayout layout(v.dims);
  for (size_t j = 0; j < v.dims.width; ++j) {
    v.weights[layout.b2 + j] += 0.03f * static_cast<float>(version) * (j % 2 == 0 ? 1.0f : -0.5f);
  }
  v.Seal();
  return v;
}

// Rows whose feature 0 moved by +3, and a heal policy whose gates let almost anything through,
// so that the heal is accepted unless its numbers blow up.
HealJob PermissiveJob(const Data& drifted) {
  HealJob job;
  job.rows = drifted.rows;
  job.n_rows = drifted.n;
  job.policy.positive_rate_tolerance = 100.0;  // positive-rate bounds [0, 1]
  job.policy.max_moment_ratio = 100.0;
  job.policy.max_rule_agreement_drop = 1.0;
  job.seed = 9;
  return job;
}

Data Shifted(size_t n, uint64_t seed) {
  Data d = MakeData(n, seed);
  for (size_t i = 0; i < d.n; ++i) d.rows[i * kDims] += 3.0f;
  return d;
}

bool CodeIs(const Status& s, StatusCode code) { return s.code() == code; }

// Holds a heal inside its on_step hook (at step 1) until released. Declare it before the engine
// so that the engine (whose destructor joins the heal) goes first; Release() runs on destruction
// too, so a failing test never leaves a heal parked.
class StepLatch {
 public:
  StepLatch() : released_(release_.get_future().share()) {}
  ~StepLatch() { Release(); }
  std::function<void(int)> Hook() {
    return [this](int step) {
      if (step >= 1 && !held_.exchange(true)) {
        held_step_ = step;
        reached_.set_value();
        released_.wait();
      }
    };
  }
  bool WaitHeld(std::chrono::seconds timeout) {
    return reached_.get_future().wait_for(timeout) == std::future_status::ready;
  }
  void Release() {
    if (!release_done_.exchange(true)) release_.set_value();
  }
  int held_step() const { return held_step_; }

 private:
  std::promise<void> reached_, release_;
  std::shared_future<void> released_;
  std::atomic<bool> held_{false}, release_done_{false};
  int held_step_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_CASE(KeepsScoringWhileAHealIsHeldMidStep) {
  StepLatch latch;
  auto engine = NewEngine();
  Data traffic = MakeData(64, 2);
  auto v0_probs = Trained().model->Score(Trained().model->initial_adapter(), traffic.view());
  BOOST_REQUIRE(v0_probs.ok());

  HealJob job = PermissiveJob(Shifted(500, 3));
  job.new_version = 1;
  job.on_step = latch.Hook();
  std::future<Result<HealOutcome>> healed = engine->HealAsync(Trained().calibration, std::move(job));
  BOOST_REQUIRE_MESSAGE(latch.WaitHeld(60s), "the heal never reached step 1");
  BOOST_TEST(latch.held_step() == 1);

  // The heal is parked mid-step: scoring goes on, on the old version, without waiting.
  double worst_ms = 0;
  for (int call = 0; call < 200; ++call) {
    const auto start = std::chrono::steady_clock::now();
    auto scored = engine->Score(traffic.view());
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    BOOST_REQUIRE_MESSAGE(scored.ok(), scored.status().ToString());
    BOOST_TEST_REQUIRE(scored->version == 0u);
    BOOST_TEST_REQUIRE(scored->probs == *v0_probs);
  }
  BOOST_TEST_MESSAGE("200 scores while the heal was held; slowest " << worst_ms << " ms");
  BOOST_TEST((healed.wait_for(0s) == std::future_status::timeout));  // still held
  BOOST_TEST(engine->Current()->adapter.version == 0u);

  latch.Release();
  BOOST_REQUIRE(healed.wait_for(120s) == std::future_status::ready);
  Result<HealOutcome> outcome = healed.get();
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  BOOST_TEST_MESSAGE("heal: " << outcome->report.reason << " (" << outcome->report.steps_run << " steps)");
  BOOST_TEST(outcome->report.steps_run > 1);
  if (outcome->report.accepted) {
    BOOST_REQUIRE(outcome->candidate.has_value());
    BOOST_TEST(outcome->candidate->parent == 0u);
    BOOST_TEST(engine->Current()->adapter.version == 1u);
    BOOST_TEST(engine->Current()->adapter.checksum == outcome->candidate->checksum);
    auto scored = engine->Score(traffic.view());
    BOOST_REQUIRE(scored.ok());
    BOOST_TEST(scored->version == 1u);
  } else {
    BOOST_TEST(!outcome->candidate.has_value());
    BOOST_TEST(outcome->report.reason.rfind("rejected", 0) == 0);
    BOOST_TEST(engine->Current()->adapter.version == 0u);
  }
  // Permissive gates: only a non-finite heal could have been refused.
  BOOST_TEST(outcome->report.accepted);
}

BOOST_AUTO_TEST_CASE(PublishSwapsAtomicallyAndRefusesOlderVersions) {
  auto engine = NewEngine();
  const HealableModel& model = *Trained().model;
  Data traffic = MakeData(32, 4);
  std::shared_ptr<const ServingEngine::Snapshot> pinned = engine->Current();
  BOOST_TEST(pinned->adapter.version == 0u);

  AdapterVersion v1 = Variant(model.initial_adapter(), 1);
  BOOST_REQUIRE_MESSAGE(engine->Publish(v1).ok(), "publishing v1");
  BOOST_TEST(engine->Current()->adapter.version == 1u);
  auto scored = engine->Score(traffic.view());
  BOOST_REQUIRE(scored.ok());
  BOOST_TEST(scored->version == 1u);
  auto direct = model.Score(v1, traffic.view());
  BOOST_REQUIRE(direct.ok());
  BOOST_TEST(scored->probs == *direct);
  // A snapshot taken before the swap still holds the old version.
  BOOST_TEST(pinned->adapter.version == 0u);
  BOOST_TEST(pinned->adapter.checksum == model.initial_adapter().checksum);

  Status again = engine->Publish(v1);
  BOOST_TEST(CodeIs(again, StatusCode::kFailedPrecondition), again.ToString());
  Status older = engine->Publish(model.initial_adapter());
  BOOST_TEST(CodeIs(older, StatusCode::kFailedPrecondition), older.ToString());
  BOOST_TEST_MESSAGE(older.ToString());
  BOOST_TEST(engine->Current()->adapter.version == 1u);

  // Versions must grow, not be consecutive; after a jump the skipped number is too old.
  BOOST_TEST(engine->Publish(Variant(model.initial_adapter(), 5)).ok());
  BOOST_TEST(CodeIs(engine->Publish(Variant(model.initial_adapter(), 3)), StatusCode::kFailedPrecondition));
  BOOST_TEST(engine->Current()->adapter.version == 5u);
}

BOOST_AUTO_TEST_CASE(RefusesCorruptVersionAndKeepsServing) {
  auto engine = NewEngine();
  const HealableModel& model = *Trained().model;
  Data traffic = MakeData(32, 5);
  auto before = engine->Score(traffic.view());
  BOOST_REQUIRE(before.ok());

  AdapterVersion torn = Variant(model.initial_adapter(), 7);
  torn.weights[10] = -torn.weights[10] + 0.5f;  // flipped in transit, not resealed
  Status corrupt = engine->Publish(torn);
  BOOST_TEST_MESSAGE(corrupt.ToString());
  BOOST_TEST(CodeIs(corrupt, StatusCode::kCorruption), corrupt.ToString());

  AdapterVersion nan = Variant(model.initial_adapter(), 8);
  nan.weights[3] = std::nanf("");
  nan.Seal();
  Status not_finite = engine->Publish(nan);
  BOOST_TEST(CodeIs(not_finite, StatusCode::kInvalidArgument), not_finite.ToString());

  AdapterVersion narrow;
  narrow.version = 9;
  narrow.dims = {32, 32};
  narrow.weights.assign(AdapterWeightCount(narrow.dims), 0.0f);
  narrow.Seal();
  Status dims = engine->Publish(narrow);
  BOOST_TEST(CodeIs(dims, StatusCode::kInvalidArgument), dims.ToString());

  // The old version keeps serving, unchanged.
  BOOST_TEST(engine->Current()->adapter.version == 0u);
  auto after = engine->Score(traffic.view());
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->version == 0u);
  BOOST_TEST(after->probs == before->probs);
  // A refused high-numbered version does not block the next good one.
  BOOST_TEST(engine->Publish(Variant(model.initial_adapter(), 1)).ok());
  BOOST_TEST(engine->Current()->adapter.version == 1u);

  // Wrong batches are refused per call.
  auto wrong = engine->Score(BatchView{traffic.rows.data(), 3, kDims - 1});
  BOOST_TEST(CodeIs(wrong.status(), StatusCode::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(EachCallIsScoredByExactlyOneVersion) {
  auto engine = NewEngine();
  const HealableModel& model = *Trained().model;
  Data traffic = MakeData(48, 6);
  constexpr uint64_t kLast = 50;
  std::map<uint64_t, AdapterVersion> published;
  published[0] = model.initial_adapter();
  for (uint64_t v = 1; v <= kLast; ++v) published[v] = Variant(model.initial_adapter(), v);
  std::map<uint64_t, std::vector<float>> expected;
  for (const auto& [v, adapter] : published) {
    auto probs = model.Score(adapter, traffic.view());
    BOOST_REQUIRE(probs.ok());
    expected[v] = *probs;
  }
  // Precondition: each version's scores are told apart from its neighbour's.
  for (uint64_t v = 1; v <= kLast; ++v) {
    float diff = 0;
    for (size_t i = 0; i < traffic.n; ++i) diff = std::max(diff, std::fabs(expected[v][i] - expected[v - 1][i]));
    BOOST_TEST_REQUIRE(diff > 1e-4f, "versions " << v - 1 << " and " << v << " score alike");
  }

  struct Call {
    uint64_t before, version, after;
    std::vector<float> probs;
  };
  std::vector<Call> calls;
  std::atomic<size_t> scored_count{0};
  std::atomic<bool> done{false};
  std::atomic<int> publish_failures{0};

  std::thread publisher([&] {
    for (uint64_t v = 1; v <= kLast; ++v) {
      const size_t seen = scored_count.load();
      if (!engine->Publish(published[v]).ok()) publish_failures.fetch_add(1);
      // Let the scorer take a couple of calls on this version (bounded, in case it stalls).
      const auto until = std::chrono::steady_clock::now() + 2s;
      while (scored_count.load() < seen + 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    }
    done.store(true);
  });
  std::thread scorer([&] {
    bool last = false;
    while (!last) {
      last = done.load();  // one more call after the last publish
      Call c;
      c.before = engine->Current()->adapter.version;
      auto scored = engine->Score(traffic.view());
      c.after = engine->Current()->adapter.version;
      if (!scored.ok()) {
        c.version = UINT64_MAX;
      } else {
        c.version = scored->version;
        c.probs = std::move(scored->probs);
      }
      calls.push_back(std::move(c));
      scored_count.fetch_add(1);
    }
  });
  publisher.join();
  scorer.join();

  BOOST_TEST(publish_failures.load() == 0);
  BOOST_TEST(engine->Current()->adapter.version == kLast);
  BOOST_REQUIRE(!calls.empty());
  BOOST_TEST(calls.back().version == kLast);
  uint64_t previous = 0;
  std::map<uint64_t, int> per_version;
  for (const Call& c : calls) {
    BOOST_TEST_REQUIRE(c.version != UINT64_MAX, "a score call failed");
    BOOST_TEST_REQUIRE(c.version >= previous);  // never goes back
    BOOST_TEST_REQUIRE(c.before <= c.version);
    BOOST_TEST_REQUIRE(c.version <= c.after);
    previous = c.version;
    ++per_version[c.version];
    const std::vector<float>& want = expected.at(c.version);
    BOOST_REQUIRE_EQUAL(c.probs.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      BOOST_TEST_REQUIRE(std::fabs(c.probs[i] - want[i]) <= 1e-6f, "call scored by version " << c.version << ", row " << i);
    }
  }
  BOOST_TEST_MESSAGE(calls.size() << " calls saw " << per_version.size() << " versions");
  BOOST_TEST(per_version.size() > 10u);
}

BOOST_AUTO_TEST_CASE(HealThatLostTheRaceIsNotPublishedOverANewerVersion) {
  StepLatch latch;
  auto engine = NewEngine();
  HealJob job = PermissiveJob(Shifted(300, 7));
  job.new_version = 0;  // the engine numbers it: current + 1 = 1
  job.on_step = latch.Hook();
  auto healed = engine->HealAsync(Trained().calibration, std::move(job));
  BOOST_REQUIRE_MESSAGE(latch.WaitHeld(60s), "the heal never reached step 1");

  // Meanwhile an operator publishes version 1 directly.
  AdapterVersion v1 = Variant(Trained().model->initial_adapter(), 1);
  BOOST_REQUIRE(engine->Publish(v1).ok());
  latch.Release();
  BOOST_REQUIRE(healed.wait_for(120s) == std::future_status::ready);
  Result<HealOutcome> outcome = healed.get();
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  BOOST_TEST_MESSAGE("heal: " << outcome->report.reason);
  BOOST_TEST(!outcome->report.accepted);
  BOOST_TEST(!outcome->candidate.has_value());
  BOOST_TEST(outcome->report.reason.rfind("rejected: not published", 0) == 0);
  BOOST_TEST(engine->Current()->adapter.version == 1u);
  BOOST_TEST(engine->Current()->adapter.checksum == v1.checksum);
}

BOOST_AUTO_TEST_CASE(HealAsyncReportsBadJobsThroughTheFuture) {
  auto engine = NewEngine();
  auto no_calibration = engine->HealAsync(nullptr, PermissiveJob(Shifted(100, 8)));
  Result<HealOutcome> a = no_calibration.get();
  BOOST_TEST(CodeIs(a.status(), StatusCode::kInvalidArgument), a.status().ToString());

  HealJob short_rows = PermissiveJob(Shifted(100, 8));
  short_rows.rows.pop_back();
  Result<HealOutcome> b = engine->HealAsync(Trained().calibration, std::move(short_rows)).get();
  BOOST_TEST(CodeIs(b.status(), StatusCode::kInvalidArgument), b.status().ToString());
  BOOST_TEST(engine->Current()->adapter.version == 0u);
}

BOOST_AUTO_TEST_CASE(DestroyingTheEngineWaitsForRunningHeals) {
  auto engine = NewEngine();
  std::vector<std::future<Result<HealOutcome>>> heals;
  for (int i = 0; i < 3; ++i) heals.push_back(engine->HealAsync(Trained().calibration, PermissiveJob(Shifted(200, 10 + i))));
  engine.reset();  // joins the three heal threads
  for (auto& f : heals) {
    BOOST_REQUIRE(f.wait_for(0s) == std::future_status::ready);
    Result<HealOutcome> r = f.get();
    BOOST_TEST(r.ok(), r.status().ToString());
  }
}

// A coordinator restarted under a newer epoch may number from an older version (its registry
// lost a damaged newer one); its versions still supersede everything of the old epoch.
BOOST_AUTO_TEST_CASE(NewerEpochSupersedesAHigherVersionNumberOfAnOlderEpoch) {
  auto engine = NewEngine();
  const HealableModel& model = *Trained().model;
  AdapterVersion v4 = Variant(model.initial_adapter(), 4);
  v4.epoch = 1;
  v4.Seal();
  BOOST_REQUIRE(engine->Publish(v4).ok());
  AdapterVersion v2 = Variant(model.initial_adapter(), 2);
  v2.epoch = 2;
  v2.Seal();
  BOOST_TEST(engine->Publish(v2).ok());
  BOOST_TEST(engine->Current()->adapter.version == 2u);
  BOOST_TEST(engine->Current()->adapter.epoch == 2u);
  AdapterVersion stale = Variant(model.initial_adapter(), 9);
  stale.epoch = 1;
  stale.Seal();
  BOOST_TEST(CodeIs(engine->Publish(stale), StatusCode::kFailedPrecondition));
}

}  // namespace reflex

namespace reflex {
namespace {

BOOST_AUTO_TEST_CASE(ScoresKClassModelsWithKProbabilitiesPerRow) {
  constexpr uint32_t kClasses = 5;
  auto model = HealableModel::CreateImageCnn(8, 8, kClasses, 3, 16);
  BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  auto engine = ServingEngine::Create(*model, (*model)->initial_adapter());
  BOOST_REQUIRE_MESSAGE(engine.ok(), engine.status().ToString());
  const size_t n = 7, cols = (*model)->input_dims();
  std::vector<float> rows(n * cols);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i % 13) / 13.0f;
  auto scored = (*engine)->Score({rows.data(), n, cols});
  BOOST_REQUIRE_MESSAGE(scored.ok(), scored.status().ToString());
  BOOST_REQUIRE_EQUAL(scored->probs.size(), n * kClasses);
  auto direct = (*model)->Score((*model)->initial_adapter(), {rows.data(), n, cols});
  BOOST_REQUIRE(direct.ok());
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (uint32_t k = 0; k < kClasses; ++k) {
      BOOST_TEST(scored->probs[i * kClasses + k] == (*direct)[i * kClasses + k]);
      sum += scored->probs[i * kClasses + k];
    }
    BOOST_TEST(std::fabs(sum - 1.0) < 1e-5);  // each row is one distribution over the K classes
  }
}

}  // namespace
}  // namespace reflex

#include <sched.h>

namespace reflex {
namespace {

BOOST_AUTO_TEST_CASE(HealsRunPinnedToTheHealCoreOnceOneIsSet) {
  auto engine = NewEngine();
  engine->SetHealCore(0);  // core 0 exists on every machine
  Data drifted = Shifted(200, 3);
  HealJob job = PermissiveJob(drifted);
  job.policy.steps = 2;
  std::atomic<int> cores_allowed{-1};
  std::atomic<bool> on_core_zero{false};
  job.on_step = [&](int) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
      cores_allowed = CPU_COUNT(&set);
      on_core_zero = CPU_ISSET(0, &set);
    }
  };
  cpu_set_t before, after;  // the caller's thread is not pinned by it
  BOOST_REQUIRE(sched_getaffinity(0, sizeof before, &before) == 0);
  auto outcome = engine->HealAsync(Trained().calibration, job).get();
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  BOOST_TEST(cores_allowed.load() == 1);
  BOOST_TEST(on_core_zero.load());
  BOOST_REQUIRE(sched_getaffinity(0, sizeof after, &after) == 0);
  BOOST_TEST(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace reflex
