#define BOOST_TEST_MODULE core_fidi
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/fidi.h"

using reflex::FidiCalibration;
using reflex::FidiConfig;
using reflex::FidiMonitor;
using reflex::FidiReading;

namespace {

constexpr size_t kDims = 4;

// Row-major n x kDims rows; column d ~ N(d, 1 + d), plus `shift` standard deviations on
// column `shifted` (when shifted < kDims).
std::vector<float> Rows(size_t n, std::mt19937& rng, size_t shifted = kDims, double shift = 0) {
  std::vector<float> rows(n * kDims);
  for (size_t r = 0; r < n; ++r) {
    for (size_t d = 0; d < kDims; ++d) {
      const double sd = 1.0 + static_cast<double>(d);
      std::normal_distribution<double> dist(static_cast<double>(d), sd);
      double x = dist(rng);
      if (d == shifted) x += shift * sd;
      rows[r * kDims + d] = static_cast<float>(x);
    }
  }
  return rows;
}

FidiMonitor CleanMonitor(std::mt19937& rng, std::vector<size_t> monitored = {},
                         FidiConfig config = FidiConfig()) {
  std::vector<float> clean = Rows(5000, rng);
  auto monitor = FidiMonitor::Calibrate(clean.data(), 5000, kDims, std::move(monitored), config);
  BOOST_REQUIRE(monitor.ok());
  return *monitor;
}

}  // namespace

BOOST_AUTO_TEST_CASE(CalibrationRecordsCleanMeanAndStddev) {
  // Column 0: {0, 2} -> mean 1, population sd 1. Column 1: {5, 9} -> mean 7, sd 2.
  std::vector<float> clean = {0, 5, 2, 9};
  auto monitor = FidiMonitor::Calibrate(clean.data(), 2, 2, {}, FidiConfig());
  BOOST_REQUIRE(monitor.ok());
  const FidiCalibration& c = monitor->calibration();
  BOOST_TEST(c.monitored == (std::vector<size_t>{0, 1}));
  BOOST_TEST(c.mean == (std::vector<double>{1, 7}));
  BOOST_TEST(c.stddev == (std::vector<double>{1, 2}));
  BOOST_TEST(monitor->dims() == 2u);

  // One batch with means (3, 6): z = (2, 0.5).
  std::vector<float> batch = {3, 6, 3, 6};
  FidiReading r = monitor->Observe(batch.data(), 2);
  BOOST_TEST(r.z == (std::vector<double>{2.0, 0.5}));
  BOOST_TEST(r.max_z == 2.0);
  BOOST_TEST(r.max_feature == 0u);
  BOOST_TEST(r.batches == 1u);
  BOOST_TEST(!r.drift);  // fewer than min_batches
}

BOOST_AUTO_TEST_CASE(ReportsNoDriftOnCleanData) {
  std::mt19937 rng(11);
  FidiMonitor monitor = CleanMonitor(rng);
  for (int b = 0; b < 40; ++b) {
    std::vector<float> batch = Rows(100, rng);
    FidiReading r = monitor.Observe(batch.data(), 100);
    BOOST_TEST(!r.drift);
    BOOST_TEST(r.max_z < 0.5);
  }
  BOOST_TEST(monitor.Current().batches == 10u);
}

BOOST_AUTO_TEST_CASE(DetectsDriftOnceMinBatchesOfShiftedDataArrive) {
  std::mt19937 rng(12);
  FidiMonitor monitor = CleanMonitor(rng);
  for (size_t b = 1; b <= 5; ++b) {
    std::vector<float> batch = Rows(200, rng, /*shifted=*/2, /*shift=*/3.0);
    FidiReading r = monitor.Observe(batch.data(), 200);
    BOOST_TEST(r.batches == b);
    BOOST_TEST(r.max_z > 2.5);
    BOOST_TEST(r.max_feature == 2u);
    BOOST_TEST(r.drift == (b >= 3));
  }
}

BOOST_AUTO_TEST_CASE(WindowRollsSoOldBatchesLeave) {
  std::mt19937 rng(13);
  FidiConfig config;
  config.window = 4;
  FidiMonitor monitor = CleanMonitor(rng, {}, config);
  for (int b = 0; b < 4; ++b) {
    std::vector<float> batch = Rows(200, rng, 1, 4.0);
    monitor.Observe(batch.data(), 200);
  }
  BOOST_TEST(monitor.Current().drift);
  // Clean batches push the shifted ones out; each step lowers the score.
  double previous = monitor.Current().max_z;
  for (int b = 0; b < 4; ++b) {
    std::vector<float> batch = Rows(200, rng);
    FidiReading r = monitor.Observe(batch.data(), 200);
    BOOST_TEST(r.batches == 4u);
    BOOST_TEST(r.max_z < previous);
    previous = r.max_z;
  }
  FidiReading after = monitor.Current();
  BOOST_TEST(!after.drift);
  BOOST_TEST(after.max_z < 0.5);
}

BOOST_AUTO_TEST_CASE(MaxFeatureIndexesTheRowNotTheMonitoredList) {
  std::mt19937 rng(14);
  FidiMonitor monitor = CleanMonitor(rng, {1, 3});
  for (int b = 0; b < 3; ++b) {
    std::vector<float> batch = Rows(200, rng, 3, -2.0);
    FidiReading r = monitor.Observe(batch.data(), 200);
    BOOST_TEST(r.z.size() == 2u);
    BOOST_TEST(r.max_feature == 3u);
    BOOST_TEST(r.z[1] > r.z[0]);
  }
  BOOST_TEST(monitor.Current().drift);
  // A shift on an unmonitored feature is invisible.
  monitor.Reset();
  for (int b = 0; b < 3; ++b) {
    std::vector<float> batch = Rows(200, rng, 2, 5.0);
    monitor.Observe(batch.data(), 200);
  }
  BOOST_TEST(!monitor.Current().drift);
}

BOOST_AUTO_TEST_CASE(ResetEmptiesTheWindowAndEmptyBatchesPushNothing) {
  std::mt19937 rng(15);
  FidiMonitor monitor = CleanMonitor(rng);
  for (int b = 0; b < 3; ++b) {
    std::vector<float> batch = Rows(100, rng, 0, 3.0);
    monitor.Observe(batch.data(), 100);
  }
  BOOST_TEST(monitor.Current().drift);
  BOOST_TEST(monitor.Observe(nullptr, 0).batches == 3u);
  monitor.Reset();
  FidiReading r = monitor.Current();
  BOOST_TEST(r.batches == 0u);
  BOOST_TEST(r.max_z == 0.0);
  BOOST_TEST(!r.drift);
  BOOST_TEST(r.z == std::vector<double>(kDims, 0.0));
}

BOOST_AUTO_TEST_CASE(MonitorBuiltFromCalibrationBehavesLikeCalibratedOne) {
  FidiCalibration c{{1}, {10.0}, {2.0}};
  FidiConfig config;
  config.min_batches = 1;
  config.threshold = 1.5;
  FidiMonitor monitor(c, 2, config);
  std::vector<float> batch = {0, 14, 0, 14};  // mean 14 -> z 2
  FidiReading r = monitor.Observe(batch.data(), 2);
  BOOST_TEST(r.max_z == 2.0);
  BOOST_TEST(r.max_feature == 1u);
  BOOST_TEST(r.drift);
  BOOST_TEST(monitor.config().threshold == 1.5);
}

BOOST_AUTO_TEST_CASE(CalibrateRejectsBadInput) {
  std::vector<float> rows = {1, 5, 2, 5, 3, 5};  // 3 rows x 2; column 1 is constant
  auto none = FidiMonitor::Calibrate(rows.data(), 0, 2, {}, FidiConfig());
  BOOST_TEST(!none.ok());
  BOOST_TEST(none.status().message().find("got 0") != std::string::npos);

  auto out_of_range = FidiMonitor::Calibrate(rows.data(), 3, 2, {0, 2}, FidiConfig());
  BOOST_TEST(!out_of_range.ok());
  BOOST_CHECK(out_of_range.status().code() == reflex::StatusCode::kInvalidArgument);
  BOOST_TEST(out_of_range.status().message().find("index 2") != std::string::npos);

  auto constant = FidiMonitor::Calibrate(rows.data(), 3, 2, {}, FidiConfig());
  BOOST_TEST(!constant.ok());
  BOOST_TEST(constant.status().message().find("feature 1") != std::string::npos);
  BOOST_TEST(constant.status().message().find("standard deviation") != std::string::npos);

  // Monitoring only the varying column works.
  BOOST_TEST(FidiMonitor::Calibrate(rows.data(), 3, 2, {0}, FidiConfig()).ok());

  FidiConfig no_window;
  no_window.window = 0;
  BOOST_TEST(!FidiMonitor::Calibrate(rows.data(), 3, 2, {0}, no_window).ok());
}

// Issue 19: legal but extreme values (float32 max, 1e6) in a small share of the rows must not
// move FIDI beyond what that share can support: each row moves a batch mean by at most
// kFidiClipSd clean sds / rows.
BOOST_AUTO_TEST_CASE(ASmallShareOfExtremeRowsCannotRaiseFidiPastItsShareOfTheClipBand) {
  std::mt19937 rng(19);
  FidiMonitor monitor = CleanMonitor(rng, {}, FidiConfig{10, 1.0, 3});
  for (const float extreme : {std::numeric_limits<float>::max(), 1e6f, -1e6f}) {
    monitor.Reset();
    FidiReading reading;
    for (int b = 0; b < 10; ++b) {
      std::vector<float> rows = Rows(100, rng);
      for (size_t r = 0; r < 5; ++r) rows[r * kDims + 2] = extreme;  // 5% of the rows, column 2
      reading = monitor.Observe(rows.data(), 100);
    }
    BOOST_TEST(std::isfinite(reading.max_z));
    BOOST_TEST(reading.max_z < 0.05 * reflex::kFidiClipSd + 0.1, "extreme " << extreme << ": z " << reading.max_z);
    BOOST_TEST(!reading.drift);
  }
}

BOOST_AUTO_TEST_CASE(ARealShiftStillReadsItsSizeAndAHugeOneReadsTheClipBand) {
  std::mt19937 rng(20);
  FidiMonitor monitor = CleanMonitor(rng, {}, FidiConfig{5, 1.0, 3});
  FidiReading reading;
  for (int b = 0; b < 5; ++b) {
    std::vector<float> rows = Rows(400, rng, 1, 2.0);
    reading = monitor.Observe(rows.data(), 400);
  }
  BOOST_TEST(reading.max_feature == 1u);
  BOOST_TEST(reading.max_z == 2.0, boost::test_tools::tolerance(0.1));
  monitor.Reset();
  for (int b = 0; b < 5; ++b) {
    std::vector<float> rows = Rows(400, rng, 3, 1000.0);  // a unit change
    reading = monitor.Observe(rows.data(), 400);
  }
  BOOST_TEST(reading.drift);
  BOOST_TEST(reading.max_z == reflex::kFidiClipSd, boost::test_tools::tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(ClipBoundsBandTheMonitoredColumnsOnly) {
  FidiCalibration calibration{{1}, {10.0}, {2.0}};
  const reflex::FeatureClip clip = reflex::FidiClipBounds(calibration, 3);
  BOOST_TEST(clip.lo[1] == 10.0f - 2.0f * static_cast<float>(reflex::kFidiClipSd));
  BOOST_TEST(clip.hi[1] == 10.0f + 2.0f * static_cast<float>(reflex::kFidiClipSd));
  BOOST_TEST(std::isinf(clip.lo[0]));
  std::vector<float> out;
  const std::vector<float> row = {1e30f, 1e30f, -1e30f};
  clip.Apply(row.data(), 1, &out);
  BOOST_TEST(out[0] == 1e30f);
  BOOST_TEST(out[1] == clip.hi[1]);
  BOOST_TEST(out[2] == -1e30f);
}
