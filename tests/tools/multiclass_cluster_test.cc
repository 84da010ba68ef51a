// A K-class model end to end through the real actors (EmbeddedFleet: replica actors, coordinator,
// healer, weight bus over inproc://, scoring over protocol version 2 on 127.0.0.1): a small
// 3-class model built here (the built-in CNN on 8x8 inputs: class c is a bright square in one of
// three places), an offset drift (every input +0.55, clipped at 1), labels delivered late in label batches. The
// cluster must detect the drift, heal with the multi-class heal and move every replica to the
// healed version; the fleet then beats the frozen model on held-out drifted rows, and every
// row's probabilities over the wire sum to 1 within 1e-6. Bounded: at most 40 batches, and each
// wait has a timeout.
#define BOOST_TEST_MODULE tools_multiclass_cluster
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/fidi.h"
#include "embedded_fleet.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/model_bundle.h"
#include "model/trainer.h"
#include "transport/scoring_client.h"

namespace reflex {
namespace {

constexpr uint32_t kSide = 8, kClasses = 3;
constexpr size_t kPixels = kSide * kSide;
constexpr float kOffset = 0.55f;  // the drift: every input moves up by this much (clipped at 1)

struct Rows {
  std::vector<float> x;
  std::vector<uint8_t> y;
  size_t n = 0;
};

Rows Make(size_t n, uint64_t seed, float offset) {
  Rows d;
  d.n = n;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(0.0f, 0.2f);
  std::uniform_int_distribution<int> cls(0, kClasses - 1);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = static_cast<uint8_t>(cls(rng));
    d.y.push_back(c);
    const size_t first = d.x.size();
    for (size_t p = 0; p < kPixels; ++p) d.x.push_back(u(rng));
    const size_t r0 = 1 + 2 * c, c0 = 4 - c;
    for (size_t r = r0; r < r0 + 3; ++r)
      for (size_t col = c0; col < c0 + 3; ++col) d.x[first + r * kSide + col] = 0.9f;
  }
  for (float& v : d.x) v = std::min(1.0f, v + offset);
  return d;
}

std::shared_ptr<const ModelBundle> Bundle() {
  auto m = HealableModel::CreateImageCnn(kSide, kSide, kClasses, 5, 16);
  BOOST_REQUIRE(m.ok());
  const Rows train = Make(900, 1, 0.0f);
  TrainConfig config;
  config.epochs = 5;
  config.batch_size = 32;
  config.lr = 0.003;
  BOOST_REQUIRE(TrainClassifier(**m, {train.x.data(), train.n, kPixels}, train.y.data(), config).ok());
  auto bundle = std::make_shared<ModelBundle>();
  bundle->model = *m;
  auto cal = Calibrate(**m, {train.x.data(), train.n, kPixels}, train.y.data(), nullptr);
  BOOST_REQUIRE_MESSAGE(cal.ok(), cal.status().ToString());
  bundle->calibration = std::make_shared<const HealCalibration>(std::move(*cal));
  bundle->rules = std::make_shared<const RuleSet>();
  for (size_t c = 0; c < kPixels; ++c) bundle->monitored.push_back(c);
  auto fidi = FidiMonitor::Calibrate(train.x.data(), train.n, kPixels, bundle->monitored, FidiConfig{});
  BOOST_REQUIRE_MESSAGE(fidi.ok(), fidi.status().ToString());
  bundle->fidi = fidi->calibration();
  return bundle;
}

size_t Argmax(const float* p) { return static_cast<size_t>(std::max_element(p, p + kClasses) - p); }

BOOST_AUTO_TEST_CASE(kclass_model_is_healed_through_the_cluster_and_beats_frozen) {
  const auto bundle = Bundle();
  sim::FleetOptions fo;
  fo.replicas = 2;
  fo.summary_rows = 100;
  fo.policy.min_rows = 200;
  fo.policy.window_rows = 600;
  auto fleet = sim::EmbeddedFleet::Start(bundle, fo);
  BOOST_REQUIRE_MESSAGE(fleet.ok(), fleet.status().ToString());
  transport::ScoringClientOptions co;
  co.endpoints = (*fleet)->endpoints();
  co.protocol_version = 2;
  auto client = transport::ScoringClient::Create(co);
  BOOST_REQUIRE(client.ok());

  const Rows clean = Make(400, 2, 0.0f), drifted = Make(1600, 3, kOffset), holdout = Make(600, 4, kOffset);
  const size_t batch = 50;
  size_t scored = 0, sum_errors = 0;
  wire::LabelBatch pending;
  auto stream = [&](const Rows& d) {
    for (size_t b = 0; b * batch < d.n; ++b) {
      auto reply = (*client)->Score(d.x.data() + b * batch * kPixels, batch, kPixels, std::chrono::seconds(5));
      BOOST_REQUIRE(reply.ok());
      BOOST_REQUIRE(reply->error == wire::ErrorCode::kOk);
      BOOST_REQUIRE(reply->outputs_per_row == kClasses);
      BOOST_REQUIRE(reply->probabilities.size() == batch * kClasses);
      for (size_t i = 0; i < batch; ++i) {
        double sum = 0;
        for (size_t c = 0; c < kClasses; ++c) sum += reply->probabilities[i * kClasses + c];
        sum_errors += std::abs(sum - 1.0) > 1e-6;
        pending.request_ids.push_back(reply->request_id);
        pending.rows.push_back(i);
        pending.labels.push_back(d.y[b * batch + i]);
      }
      scored += batch;
      if (pending.request_ids.size() >= 2 * batch) {  // labels arrive two batches late
        auto ack = (*client)->SendLabels(pending, std::chrono::seconds(5));
        BOOST_REQUIRE(ack.ok());
        BOOST_TEST(ack->dropped == 0u);
        pending = {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  stream(clean);
  stream(drifted);
  BOOST_TEST(sum_errors == 0u);
  const bool healed = sim::WaitUntil(
      [&] {
        for (size_t i = 0; i < co.endpoints.size(); ++i) {
          const auto s = (*fleet)->ReplicaStatus(i);
          if (s.is_null() || s.value("version", 0) == 0) return false;
        }
        return true;
      },
      std::chrono::seconds(20));
  BOOST_TEST_MESSAGE("coordinator: " << (*fleet)->CoordinatorStatus().dump().substr(0, 2000));
  BOOST_REQUIRE_MESSAGE(healed, "every replica serves a healed version");

  auto frozen = bundle->model->Score(bundle->model->initial_adapter(), {holdout.x.data(), holdout.n, kPixels});
  BOOST_REQUIRE(frozen.ok());
  size_t frozen_right = 0, fleet_right = 0;
  for (size_t b = 0; b * batch < holdout.n; ++b) {
    auto reply = (*client)->Score(holdout.x.data() + b * batch * kPixels, batch, kPixels, std::chrono::seconds(5));
    BOOST_REQUIRE(reply.ok());
    for (size_t i = 0; i < batch; ++i) {
      const size_t r = b * batch + i;
      fleet_right += Argmax(reply->probabilities.data() + i * kClasses) == holdout.y[r];
      frozen_right += Argmax(frozen->data() + r * kClasses) == holdout.y[r];
      BOOST_TEST(reply->classes[i] == Argmax(reply->probabilities.data() + i * kClasses));
    }
  }
  const double frozen_acc = static_cast<double>(frozen_right) / holdout.n;
  const double fleet_acc = static_cast<double>(fleet_right) / holdout.n;
  BOOST_TEST_MESSAGE("held-out drifted accuracy: frozen " << frozen_acc << ", fleet " << fleet_acc);
  BOOST_TEST(fleet_acc > frozen_acc);
}

}  // namespace
}  // namespace reflex
