#define BOOST_TEST_MODULE core_shift_diagnosis
#include <boost/test/unit_test.hpp>

#include <random>

#include "core/shift_diagnosis.h"

using namespace reflex;

namespace {

// Two features; positives shift both by +1.5. Returns rows and labels.
void Generate(std::mt19937_64& rng, size_t n, double prior, double scale0, double offset0,
              std::vector<float>* rows, std::vector<int8_t>* labels) {
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t i = 0; i < n; ++i) {
    bool pos = u(rng) < prior;
    double a = z(rng) + (pos ? 1.5 : 0), b = z(rng) + (pos ? 1.5 : 0);
    rows->push_back(static_cast<float>(a * scale0 + offset0));
    rows->push_back(static_cast<float>(b));
    labels->push_back(pos ? 1 : 0);
  }
}

CleanCalibration Clean(std::mt19937_64& rng) {
  std::vector<float> rows;
  std::vector<int8_t> labels;
  Generate(rng, 20000, 0.15, 1, 0, &rows, &labels);
  CleanCalibration c{FeatureStats(2), FeatureStats(2), FeatureStats(2), 0, 0.15};
  size_t pos = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    c.all.AddRow(&rows[2 * i]);
    (labels[i] ? c.class1 : c.class0).AddRow(&rows[2 * i]);
    pos += labels[i];
  }
  c.train_prior = static_cast<double>(pos) / labels.size();
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(LabelsRevealAPriorShift) {
  std::mt19937_64 rng(3);
  CleanCalibration clean = Clean(rng);
  std::vector<float> rows;
  std::vector<int8_t> labels;
  Generate(rng, 1000, 0.40, 1, 0, &rows, &labels);
  ShiftDiagnosis d = DiagnoseShift(clean, rows.data(), labels.size(), 2, labels.data(), nullptr, HealPolicy{});
  BOOST_CHECK(d.kind == ShiftKind::kLabel);
  BOOST_TEST(std::abs(d.prior - 0.40) < 0.05);
}

BOOST_AUTO_TEST_CASE(LabelsConfirmAnAffineRecalibrationAlignment) {
  std::mt19937_64 rng(4);
  CleanCalibration clean = Clean(rng);
  std::vector<float> rows;
  std::vector<int8_t> labels;
  Generate(rng, 1000, 0.15, 2.0, 3.0, &rows, &labels);
  ShiftDiagnosis d = DiagnoseShift(clean, rows.data(), labels.size(), 2, labels.data(), nullptr, HealPolicy{});
  BOOST_CHECK(d.kind == ShiftKind::kCovariate);
  BOOST_TEST(d.alignment.features.size() == 1u);
  BOOST_TEST(d.alignment.features[0] == 0u);
  BOOST_TEST(std::abs(d.alignment.scale[0] - 0.5) < 0.05);
  BOOST_TEST(d.alignment_verified);
}

BOOST_AUTO_TEST_CASE(WithoutLabelsAnAffineShiftIsCovariateDrift) {
  std::mt19937_64 rng(5);
  CleanCalibration clean = Clean(rng);
  std::vector<float> rows;
  std::vector<int8_t> labels;
  Generate(rng, 1000, 0.15, 2.0, 3.0, &rows, &labels);
  ShiftDiagnosis d = DiagnoseShift(clean, rows.data(), labels.size(), 2, nullptr, nullptr, HealPolicy{});
  BOOST_CHECK(d.kind == ShiftKind::kCovariate);
  BOOST_TEST(!d.explanation.empty());
}

BOOST_AUTO_TEST_CASE(WithoutLabelsAReweightedMixtureIsLabelShift) {
  std::mt19937_64 rng(6);
  CleanCalibration clean = Clean(rng);
  std::vector<float> rows;
  std::vector<int8_t> labels;
  Generate(rng, 2000, 0.40, 1, 0, &rows, &labels);
  ShiftDiagnosis d = DiagnoseShift(clean, rows.data(), labels.size(), 2, nullptr, nullptr, HealPolicy{});
  BOOST_CHECK(d.kind == ShiftKind::kLabel);
  BOOST_TEST(std::abs(d.prior - 0.40) < 0.06);
}

// No prior is implausible in itself: a task that became majority-positive is a label shift
// when the evidence (mixture fit, EM agreement) says so.
BOOST_AUTO_TEST_CASE(WithoutLabelsAMajorityPositiveMixtureIsLabelShift) {
  for (double prior : {0.60, 0.90}) {
    std::mt19937_64 rng(7);
    CleanCalibration clean = Clean(rng);
    std::vector<float> rows;
    std::vector<int8_t> labels;
    Generate(rng, 2000, prior, 1, 0, &rows, &labels);
    ShiftDiagnosis d = DiagnoseShift(clean, rows.data(), labels.size(), 2, nullptr, nullptr, HealPolicy{});
    BOOST_CHECK_MESSAGE(d.kind == ShiftKind::kLabel, "prior " << prior << ": " << d.explanation);
    BOOST_TEST(std::abs(d.prior - prior) < 0.06);
  }
}
