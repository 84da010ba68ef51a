#define BOOST_TEST_MODULE model_healer
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/adapter_version.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"
#include "synthetic_data.h"

// The raw-bytes check of the frozen parameters needs LibTorch's headers, which test targets only
// see when tests/CMakeLists.txt gives them torch's include directories. Without them the check
// falls back to the fingerprint and to bit-exact outputs of version 0.
#if __has_include(<torch/torch.h>)
#include "model/model_parts.h"
#define REFLEX_TEST_HAS_TORCH 1
#else
#define REFLEX_TEST_HAS_TORCH 0
#endif

namespace reflex {
namespace {

using testing::Data;
using testing::kDims;
using testing::MakeData;

// The sensor of feature 0 is re-calibrated: x0 -> 2 * x0 + 3.
Data Drift(Data d) {
  for (size_t i = 0; i < d.n; ++i) d.rows[i * kDims] = d.rows[i * kDims] * 2.0f + 3.0f;
  return d;
}

struct Trained {
  std::shared_ptr<HealableModel> model;
  HealCalibration calibration;
};

// One small model for the whole binary: training is the slow part. Heals never change it.
const Trained& World() {
  static const Trained world = [] {
    std::vector<std::string> names;
    for (size_t f = 0; f < kDims; ++f) names.push_back("f" + std::to_string(f));
    auto model = HealableModel::CreateMlp(names, 11);
    BOOST_REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    Data clean = MakeData(1000, 1);
    TrainConfig config;
    config.epochs = 10;
    Status trained = TrainMlp(**model, clean.view(), clean.labels.data(), config);
    BOOST_REQUIRE_MESSAGE(trained.ok(), trained.ToString());
    auto cal = Calibrate(**model, clean.view(), clean.labels.data(), nullptr);
    BOOST_REQUIRE_MESSAGE(cal.ok(), cal.status().ToString());
    return Trained{*model, *cal};
  }();
  return world;
}

double Accuracy(const HealableModel& model, const AdapterVersion& adapter, const Data& d) {
  auto probs = model.Score(adapter, d.view());
  BOOST_REQUIRE_MESSAGE(probs.ok(), probs.status().ToString());
  size_t right = 0;
  for (size_t i = 0; i < d.n; ++i) right += ((*probs)[i] > 0.5f) == (d.labels[i] == 1);
  return static_cast<double>(right) / d.n;
}

HealJob LabelFreeJob(const Data& d, const AdapterVersion& base, uint64_t new_version) {
  HealJob job;
  job.base = base;
  job.rows = d.rows;
  job.n_rows = d.n;
  job.new_version = new_version;
  job.seed = 5;
  return job;
}

HealJob LabelledJob(const Data& d, const AdapterVersion& base, uint64_t new_version) {
  HealJob job = LabelFreeJob(d, base, new_version);
  job.labels.assign(d.labels.begin(), d.labels.end());
  return job;
}

// Raw bytes of every frozen parameter (empty without LibTorch's headers).
std::vector<std::vector<char>> FrozenBytes(const HealableModel& model) {
  std::vector<std::vector<char>> out;
#if REFLEX_TEST_HAS_TORCH
  for (const torch::Tensor& p : model.parts().FrozenParameters()) {
    torch::Tensor c = p.detach().to(torch::kCPU).contiguous();
    const char* bytes = static_cast<const char*>(c.data_ptr());
    out.emplace_back(bytes, bytes + c.numel() * c.element_size());
  }
#endif
  return out;
}

bool AllFinite(const AdapterVersion& v) {
  for (float w : v.weights) {
    if (!std::isfinite(w)) return false;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(HealLeavesBackboneAndHeadBitwiseUnchanged) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  const uint64_t fingerprint = model.FrozenFingerprint();
  const std::vector<std::vector<char>> before = FrozenBytes(model);
  BOOST_REQUIRE(REFLEX_TEST_HAS_TORCH == 0 || !before.empty());
  // Outputs of version 0 on a probe batch: any change to a frozen weight would show here.
  Data probe = MakeData(200, 12);
  auto probe_before = model.Score(model.initial_adapter(), probe.view());
  BOOST_REQUIRE(probe_before.ok());

  Data drifted = Drift(MakeData(500, 2));
  AdapterVersion base = model.initial_adapter();
  // A chain of heals of every kind: label-free, labelled, label-free again from the last
  // accepted version, and one that blows up.
  std::vector<HealJob> jobs;
  jobs.push_back(LabelFreeJob(drifted, base, 1));
  jobs.push_back(LabelledJob(drifted, base, 2));
  HealJob wild = LabelFreeJob(drifted, base, 3);
  wild.policy.lr = wild.policy.distill_lr = 1e30;
  jobs.push_back(wild);
  int heals = 0;
  for (HealJob& job : jobs) {
    job.base = base;
    auto outcome = Heal(model, w.calibration, job);
    BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
    BOOST_TEST_MESSAGE("heal " << job.new_version << ": " << outcome->report.reason);
    BOOST_TEST(outcome->report.steps_run > 0);
    if (outcome->candidate) base = *outcome->candidate;
    ++heals;
    BOOST_TEST(model.FrozenFingerprint() == fingerprint);
  }
  BOOST_TEST(heals == 3);
  auto probe_after = model.Score(model.initial_adapter(), probe.view());
  BOOST_REQUIRE(probe_after.ok());
  BOOST_TEST(std::memcmp(probe_after->data(), probe_before->data(), sizeof(float) * probe.n) == 0);
  if (!REFLEX_TEST_HAS_TORCH) BOOST_TEST_MESSAGE("raw frozen-parameter comparison skipped: no LibTorch headers");

  const std::vector<std::vector<char>> after = FrozenBytes(model);
  BOOST_REQUIRE_EQUAL(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    BOOST_REQUIRE_EQUAL(after[i].size(), before[i].size());
    BOOST_TEST(std::memcmp(after[i].data(), before[i].data(), before[i].size()) == 0, "frozen parameter " << i);
  }
}

BOOST_AUTO_TEST_CASE(FrozenFingerprintSeesTrainingChangeTheBackbone) {
  // The guard above only means something if the fingerprint covers the frozen weights.
  std::vector<std::string> names;
  for (size_t f = 0; f < kDims; ++f) names.push_back("f" + std::to_string(f));
  auto model = HealableModel::CreateMlp(names, 13);
  BOOST_REQUIRE(model.ok());
  const uint64_t untrained = (*model)->FrozenFingerprint();
  Data clean = MakeData(200, 14);
  TrainConfig config;
  config.epochs = 1;
  BOOST_REQUIRE(TrainMlp(**model, clean.view(), clean.labels.data(), config).ok());
  BOOST_TEST((*model)->FrozenFingerprint() != untrained);
}

BOOST_AUTO_TEST_CASE(NonFiniteLossDiscardsTheCandidate) {
  const Trained& w = World();
  Data drifted = Drift(MakeData(500, 3));

  // (a) A learning rate so large that the adapter's weights overflow.
  HealJob huge_lr = LabelFreeJob(drifted, w.model->initial_adapter(), 1);
  huge_lr.policy.lr = huge_lr.policy.distill_lr = 1e30;
  // (b) Rows carrying a value whose square overflows float32 in the loss.
  HealJob huge_rows = LabelFreeJob(drifted, w.model->initial_adapter(), 1);
  for (size_t i = 0; i < huge_rows.n_rows; i += 10) huge_rows.rows[i * kDims + 2] = 1e30f;
  huge_rows.policy.w_moment = 1.0;

  for (const HealJob* job : {&huge_lr, &huge_rows}) {
    auto outcome = Heal(*w.model, w.calibration, *job);
    BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
    const HealReport& report = outcome->report;
    BOOST_TEST_MESSAGE("reason: " << report.reason << " after " << report.steps_run << " steps");
    BOOST_TEST(!outcome->candidate.has_value());
    BOOST_TEST(!report.accepted);
    BOOST_TEST(report.reason.rfind("rejected", 0) == 0);
    BOOST_TEST(report.reason.find("non-finite") != std::string::npos);
    if (outcome->candidate) BOOST_TEST(AllFinite(*outcome->candidate));  // never a NaN version
  }
}

BOOST_AUTO_TEST_CASE(RejectedCandidateIsReportedWithItsReason) {
  const Trained& w = World();
  Data drifted = Drift(MakeData(500, 4));
  HealJob job = LabelFreeJob(drifted, w.model->initial_adapter(), 1);
  job.policy.positive_rate_tolerance = 0.0;  // bounds shrink to the clean rate itself:
  job.policy.confidence_z = 0.0;             // only a model that flags exactly that could pass

  auto outcome = Heal(*w.model, w.calibration, job);
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  const HealReport& report = outcome->report;
  BOOST_TEST_MESSAGE("reason: " << report.reason);
  BOOST_REQUIRE(report.candidate_positive_rate != report.expected_positive_rate);  // so the gate must refuse
  BOOST_TEST(!report.accepted);
  BOOST_TEST(!outcome->candidate.has_value());
  BOOST_TEST(report.reason.rfind("rejected", 0) == 0);
  BOOST_TEST(report.reason.find("positive rate") != std::string::npos);
  BOOST_TEST(report.steps_run > 0);
  BOOST_TEST(std::isfinite(report.loss_last));
}

BOOST_AUTO_TEST_CASE(LabelFreeHealRealignsARecalibratedFeature) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  Data clean = MakeData(1000, 5);
  Data drifted = Drift(clean);
  const AdapterVersion& v0 = model.initial_adapter();
  const double clean_accuracy = Accuracy(model, v0, clean);
  const double drifted_accuracy = Accuracy(model, v0, drifted);
  BOOST_TEST_MESSAGE("clean " << clean_accuracy << ", drifted " << drifted_accuracy);
  BOOST_REQUIRE(clean_accuracy > 0.85);            // the model learnt the task
  BOOST_REQUIRE(drifted_accuracy < clean_accuracy - 0.1);  // and the drift hurts it

  Data window = Drift(MakeData(500, 6));  // the heal sees other rows than it is scored on
  HealJob job = LabelFreeJob(window, v0, 1);
  job.policy.distill_steps = 150;
  auto outcome = Heal(model, w.calibration, job);
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  const HealReport& report = outcome->report;
  BOOST_TEST_MESSAGE("diagnosis: " << ShiftKindName(report.diagnosis.kind) << " (" << report.diagnosis.explanation
                                   << "); reason: " << report.reason << "; loss " << report.loss_first << " -> "
                                   << report.loss_last);
  BOOST_TEST(std::string(ShiftKindName(report.diagnosis.kind)) == ShiftKindName(ShiftKind::kCovariate));
  BOOST_TEST(report.labelled_rows == 0u);
  BOOST_TEST(report.loss_last < report.loss_first);
  BOOST_REQUIRE_MESSAGE(outcome->candidate.has_value(), report.reason);
  const AdapterVersion& healed = *outcome->candidate;
  BOOST_TEST(healed.Verify().ok());
  BOOST_TEST(healed.version == 1u);
  BOOST_TEST(healed.parent == 0u);
  const double healed_accuracy = Accuracy(model, healed, drifted);
  BOOST_TEST_MESSAGE("healed " << healed_accuracy);
  BOOST_TEST(healed_accuracy > drifted_accuracy + 0.1);
}

BOOST_AUTO_TEST_CASE(LabelledLabelShiftHealKeepsVersionZerosRankingAndMovesOnlyTheCut) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  const AdapterVersion& v0 = model.initial_adapter();
  // positives 0.3 -> 0.7; each class's features unchanged. Enough labelled rows that the labelled
  // candidate beats the label-free one significantly on the held-out rows (core/candidate_choice.h).
  Data window = MakeData(2000, 7, 0.7);
  Data later = MakeData(2000, 8, 0.7);
  HealJob job = LabelledJob(window, v0, 1);
  auto outcome = Heal(model, w.calibration, job);
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  const HealReport& report = outcome->report;
  BOOST_TEST_MESSAGE("diagnosis: " << report.diagnosis.explanation << "; reason: " << report.reason
                                   << "; offset " << report.logit_offset);
  BOOST_REQUIRE(std::string(ShiftKindName(report.diagnosis.kind)) == ShiftKindName(ShiftKind::kLabel));
  BOOST_REQUIRE_MESSAGE(outcome->candidate.has_value(), report.reason);
  BOOST_TEST(report.steps_run == 0);  // nothing to learn but the cut
  BOOST_TEST(report.logit_offset > 0.0);  // more positives: the cut moves down
  // Every logit moved by the same offset: version 0's ranking, exactly.
  auto before = model.Score(v0, later.view());
  auto after = model.Score(*outcome->candidate, later.view());
  BOOST_REQUIRE(before.ok() && after.ok());
  size_t compared = 0;
  for (size_t i = 0; i < later.n; ++i) {
    const double p0 = (*before)[i], p1 = (*after)[i];
    if (p0 < 1e-4 || p0 > 1 - 1e-4 || p1 < 1e-4 || p1 > 1 - 1e-4) continue;  // saturated in float
    const double moved = std::log(p1 / (1 - p1)) - std::log(p0 / (1 - p0));
    BOOST_TEST(std::fabs(moved - report.logit_offset) < 0.02, "row " << i << " moved " << moved);
    ++compared;
  }
  BOOST_TEST(compared > later.n / 2);
  BOOST_TEST(Accuracy(model, *outcome->candidate, later) >= Accuracy(model, v0, later));
}

// No prior is implausible in itself: a task that became majority-positive (0.3 -> 0.7, each
// class's features unchanged) is a label shift the evidence shows, and heals without labels.
BOOST_AUTO_TEST_CASE(AMajorityPositiveLabelShiftHealsWithoutLabels) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  const AdapterVersion& v0 = model.initial_adapter();
  Data window = MakeData(800, 31, 0.7);
  Data later = MakeData(2000, 32, 0.7);
  auto outcome = Heal(model, w.calibration, LabelFreeJob(window, v0, 1));
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  const HealReport& report = outcome->report;
  BOOST_TEST_MESSAGE("diagnosis: " << report.diagnosis.explanation << "; reason: " << report.reason);
  BOOST_REQUIRE(std::string(ShiftKindName(report.diagnosis.kind)) == ShiftKindName(ShiftKind::kLabel));
  BOOST_TEST(report.diagnosis.prior > 0.5);
  BOOST_REQUIRE_MESSAGE(outcome->candidate.has_value(), report.reason);
  BOOST_TEST(report.candidate_positive_rate > 0.5);
  BOOST_TEST(Accuracy(model, *outcome->candidate, later) > Accuracy(model, v0, later));
}

BOOST_AUTO_TEST_CASE(ALabelledHealThatLabelsCannotJustifyKeepsTheLabelFreeDefault) {
  // No drift: no candidate beats another beyond the held-out noise, so the labels move nothing:
  // the heal ends where the same heal without labels ends (its candidate, or no version).
  const Trained& w = World();
  const HealableModel& model = *w.model;
  HealJob job = LabelledJob(MakeData(800, 21), model.initial_adapter(), 1);
  auto outcome = Heal(model, w.calibration, job);
  BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
  HealJob blind = job;
  blind.labels.clear();
  auto without = Heal(model, w.calibration, blind);
  BOOST_REQUIRE(without.ok());
  const HealReport& report = outcome->report;
  BOOST_TEST_MESSAGE("reason: " << report.reason);
  BOOST_TEST(report.chosen == (without->candidate ? 1 : 0));
  BOOST_TEST(outcome->candidate.has_value() == without->candidate.has_value());
  if (outcome->candidate && without->candidate) BOOST_TEST(outcome->candidate->weights == without->candidate->weights);
  const auto metrics = report.Metrics();
  BOOST_TEST(metrics.at("holdout_rows") > 100.0);
}

BOOST_AUTO_TEST_CASE(ALabelledHealUnderDriftIsNoWorseThanTheSameHealWithoutLabels) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  const AdapterVersion& v0 = model.initial_adapter();
  Data window = Drift(MakeData(800, 22));
  Data later = Drift(MakeData(2000, 23));
  // A few labels, most rows unlabelled.
  HealJob job = LabelledJob(window, v0, 1);
  for (size_t i = 0; i < job.labels.size(); ++i) {
    if (i % 4 != 0) job.labels[i] = -1;
  }
  auto labelled = Heal(model, w.calibration, job);
  auto label_free = Heal(model, w.calibration, LabelFreeJob(window, v0, 1));
  BOOST_REQUIRE(labelled.ok() && label_free.ok());
  BOOST_TEST_MESSAGE("labelled: " << labelled->report.reason);
  BOOST_REQUIRE(label_free->candidate.has_value());
  BOOST_REQUIRE_MESSAGE(labelled->candidate.has_value(), labelled->report.reason);
  BOOST_TEST((labelled->report.chosen == 1 || labelled->report.chosen == 2));
  BOOST_TEST(labelled->report.labelled_rows == 200u);
  if (labelled->report.chosen == 1) BOOST_TEST(labelled->candidate->weights == label_free->candidate->weights);
  BOOST_TEST(Accuracy(model, *labelled->candidate, later) >= Accuracy(model, *label_free->candidate, later) - 0.02);
}

BOOST_AUTO_TEST_CASE(BadJobIsAnErrorNotACrash) {
  const Trained& w = World();
  Data drifted = Drift(MakeData(50, 7));
  const AdapterVersion& v0 = w.model->initial_adapter();
  auto expect_invalid = [&](const HealJob& job, const char* what) {
    auto outcome = Heal(*w.model, w.calibration, job);
    BOOST_TEST_REQUIRE(!outcome.ok(), what);
    BOOST_TEST_MESSAGE(what << ": " << outcome.status().ToString());
    BOOST_TEST(static_cast<int>(outcome.status().code()) == static_cast<int>(StatusCode::kInvalidArgument), what);
  };

  HealJob short_rows = LabelFreeJob(drifted, v0, 1);
  short_rows.rows.pop_back();
  expect_invalid(short_rows, "one value missing");

  HealJob wrong_count = LabelFreeJob(drifted, v0, 1);
  wrong_count.n_rows = 49;
  expect_invalid(wrong_count, "row count disagrees with the values");

  HealJob one_row = LabelFreeJob(drifted, v0, 1);
  one_row.rows.resize(kDims);
  one_row.n_rows = 1;
  expect_invalid(one_row, "a single row");

  HealJob empty = LabelFreeJob(drifted, v0, 1);
  empty.rows.clear();
  empty.n_rows = 0;
  expect_invalid(empty, "no rows");

  HealJob labels = LabelledJob(drifted, v0, 1);
  labels.labels.resize(10);
  expect_invalid(labels, "labels for some rows only");

  HealJob dims = LabelFreeJob(drifted, v0, 1);
  dims.base.dims = {32, 32};
  dims.base.weights.assign(AdapterWeightCount(dims.base.dims), 0.0f);
  dims.base.Seal();
  expect_invalid(dims, "base adapter of other dims");

  HealJob corrupt = LabelFreeJob(drifted, v0, 1);
  corrupt.base.weights[0] += 1.0f;  // not resealed
  auto outcome = Heal(*w.model, w.calibration, corrupt);
  BOOST_REQUIRE(!outcome.ok());
  BOOST_TEST_MESSAGE("corrupt base: " << outcome.status().ToString());
  BOOST_TEST(static_cast<int>(outcome.status().code()) == static_cast<int>(StatusCode::kCorruption));
}

// use_cuda runs the optimisation loop on CUDA when LibTorch sees a device; without one the heal
// falls back to the CPU and gives exactly the CPU result. Either way the candidate heals.
BOOST_AUTO_TEST_CASE(UseCudaHealsOnTheDeviceOrFallsBackToTheSameCpuResult) {
  const Trained& w = World();
  const HealableModel& model = *w.model;
  Data window = Drift(MakeData(500, 6));
  Data drifted = Drift(MakeData(1000, 5));
  HealJob cpu_job = LabelFreeJob(window, model.initial_adapter(), 1);
  cpu_job.policy.distill_steps = 150;
  HealJob cuda_job = cpu_job;
  cuda_job.use_cuda = true;
  auto on_cpu = Heal(model, w.calibration, cpu_job);
  auto on_cuda = Heal(model, w.calibration, cuda_job);
  BOOST_REQUIRE_MESSAGE(on_cpu.ok(), on_cpu.status().ToString());
  BOOST_REQUIRE_MESSAGE(on_cuda.ok(), on_cuda.status().ToString());
  BOOST_TEST(on_cpu->report.device == "cpu");
  BOOST_TEST(on_cuda->report.device == (CudaAvailable() ? "cuda" : "cpu"));
  BOOST_REQUIRE(on_cpu->candidate.has_value());
  BOOST_REQUIRE_MESSAGE(on_cuda->candidate.has_value(), on_cuda->report.reason);
  if (!CudaAvailable()) {
    BOOST_TEST(on_cuda->candidate->weights == on_cpu->candidate->weights);
  } else {
    // Different kernels round differently; the heals must agree on what they achieve.
    BOOST_TEST(std::abs(Accuracy(model, *on_cuda->candidate, drifted) - Accuracy(model, *on_cpu->candidate, drifted)) < 0.02);
  }
}

}  // namespace reflex
