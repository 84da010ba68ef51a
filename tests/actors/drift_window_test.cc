#define BOOST_TEST_MODULE actors_drift_window
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/drift_window.h"
#include "core/welford.h"

// Boost.Test prints status codes by name in failed checks.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<reflex::StatusCode> {
  void operator()(std::ostream& os, reflex::StatusCode code) { os << reflex::StatusCodeName(code); }
};
}  // namespace boost::test_tools::tt_detail

namespace reflex::actors {
namespace {

namespace tt = boost::test_tools;

constexpr size_t kCols = 3;

// Monitors columns 0 and 2 (not 1): clean means 0 and 1, clean standard deviations 1 and 2.
FidiCalibration Calibration() {
  FidiCalibration c;
  c.monitored = {0, 2};
  c.mean = {0.0, 1.0};
  c.stddev = {1.0, 2.0};
  return c;
}

// A summary of `rows` (row-major, kCols wide) as a replica would send it: exact statistics, the
// rows themselves as its (unlabelled) sample.
wire::DriftSummary SummaryOf(const std::string& replica, const std::vector<float>& rows, uint64_t positives,
                             uint64_t conflicts) {
  wire::DriftSummary s;
  s.replica_id = replica;
  s.cols = kCols;
  FeatureStats stats(kCols);
  stats.AddRows(rows.data(), rows.size() / kCols);
  s.features = stats.features();
  s.rows_scored = rows.size() / kCols;
  s.positives = positives;
  s.rule_fired = {conflicts};
  s.rule_conflicts = {conflicts};
  s.sample_rows = rows;
  s.sample_labels.assign(rows.size() / kCols, -1);
  return s;
}

// n rows whose column c is base_c + i * step_c.
std::vector<float> Ramp(size_t n, float b0, float b1, float b2, float step) {
  std::vector<float> rows;
  for (size_t i = 0; i < n; ++i) {
    rows.push_back(b0 + step * static_cast<float>(i));
    rows.push_back(b1 - step * static_cast<float>(i));
    rows.push_back(b2 + 2 * step * static_cast<float>(i));
  }
  return rows;
}

double MeanOf(const std::vector<float>& rows, size_t c) {
  double sum = 0;
  const size_t n = rows.size() / kCols;
  for (size_t i = 0; i < n; ++i) sum += rows[i * kCols + c];
  return sum / static_cast<double>(n);
}

BOOST_AUTO_TEST_CASE(MergedReadingEqualsThePooledStatisticsOfAllRows) {
  DriftWindow window(Calibration(), kCols, 5, 1000);
  const std::vector<float> a1 = Ramp(7, 0.5f, 1.0f, 3.0f, 0.25f);
  const std::vector<float> a2 = Ramp(3, -1.0f, 9.0f, 8.0f, 1.5f);
  const std::vector<float> b1 = Ramp(11, 0.1f, -2.0f, 4.5f, -0.3f);
  BOOST_TEST(window.Add(SummaryOf("a", a1, 2, 1)).ok());
  BOOST_TEST(window.Add(SummaryOf("a", a2, 1, 0)).ok());
  BOOST_TEST(window.Add(SummaryOf("b", b1, 4, 3)).ok());

  std::vector<float> pooled = a1;
  pooled.insert(pooled.end(), a2.begin(), a2.end());
  pooled.insert(pooled.end(), b1.begin(), b1.end());
  const double z0 = std::abs(MeanOf(pooled, 0) - 0.0) / 1.0;
  const double z2 = std::abs(MeanOf(pooled, 2) - 1.0) / 2.0;
  BOOST_TEST_REQUIRE(z2 != z0);

  const DriftReading r = window.Reading();
  BOOST_TEST(r.rows == 21u);
  BOOST_TEST(r.summaries == 3u);
  BOOST_TEST(r.positive_rate == 7.0 / 21.0, tt::tolerance(1e-12));
  BOOST_TEST(r.conflict_rate == 4.0 / 21.0, tt::tolerance(1e-12));
  BOOST_TEST(r.max_z == std::max(z0, z2), tt::tolerance(1e-9));
  // max_feature is the ROW column (2), not the index into `monitored` (1).
  BOOST_TEST(r.max_feature == (z2 > z0 ? 2u : 0u));
}

BOOST_AUTO_TEST_CASE(UnmonitoredColumnsNeverDriveTheReading) {
  DriftWindow window(Calibration(), kCols, 5, 100);
  // Column 1 is far away, columns 0 and 2 sit exactly on their clean means.
  std::vector<float> rows;
  for (int i = 0; i < 4; ++i) rows.insert(rows.end(), {i % 2 ? 1.0f : -1.0f, 1000.0f, 1.0f});
  BOOST_TEST(window.Add(SummaryOf("a", rows, 0, 0)).ok());
  const DriftReading r = window.Reading();
  BOOST_TEST(r.rows == 4u);
  BOOST_TEST(r.max_z == 0.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(OnlyTheLastNSummariesPerReplicaCount) {
  DriftWindow window(Calibration(), kCols, 2, 1000);
  const std::vector<float> old_rows = Ramp(5, 100.0f, 0.0f, 100.0f, 1.0f);  // far drifted, then superseded
  const std::vector<float> a2 = Ramp(4, 0.5f, 0.0f, 1.0f, 0.5f);
  const std::vector<float> a3 = Ramp(6, -0.5f, 0.0f, 2.0f, 0.1f);
  const std::vector<float> b1 = Ramp(3, 1.0f, 0.0f, 0.0f, 0.2f);
  BOOST_TEST(window.Add(SummaryOf("a", old_rows, 5, 5)).ok());
  BOOST_TEST(window.Add(SummaryOf("b", b1, 1, 0)).ok());
  BOOST_TEST(window.Add(SummaryOf("a", a2, 0, 0)).ok());
  BOOST_TEST(window.Add(SummaryOf("a", a3, 2, 1)).ok());

  std::vector<float> pooled = a2;
  pooled.insert(pooled.end(), a3.begin(), a3.end());
  pooled.insert(pooled.end(), b1.begin(), b1.end());
  const DriftReading r = window.Reading();
  BOOST_TEST(r.summaries == 3u);
  BOOST_TEST(r.rows == 13u);
  BOOST_TEST(r.positive_rate == 3.0 / 13.0, tt::tolerance(1e-12));
  BOOST_TEST(r.conflict_rate == 1.0 / 13.0, tt::tolerance(1e-12));
  const double z0 = std::abs(MeanOf(pooled, 0)) / 1.0;
  const double z2 = std::abs(MeanOf(pooled, 2) - 1.0) / 2.0;
  BOOST_TEST(r.max_z == std::max(z0, z2), tt::tolerance(1e-9));

  // A summary without rows (a heartbeat) is not a window: it pushes nothing out.
  BOOST_TEST(window.Add(SummaryOf("a", {}, 0, 0)).ok());
  BOOST_TEST(window.Reading().rows == 13u);
  BOOST_TEST(window.Reading().summaries == 3u);
}

BOOST_AUTO_TEST_CASE(SummaryOfTheWrongShapeIsRefusedNamingTheReplica) {
  DriftWindow window(Calibration(), kCols, 5, 100);
  BOOST_TEST(window.Add(SummaryOf("good", Ramp(4, 0, 0, 0, 1), 1, 1)).ok());
  const DriftReading before = window.Reading();

  wire::DriftSummary wide = SummaryOf("replica-wide", Ramp(4, 0, 0, 0, 1), 1, 1);
  wide.cols = 4;
  Status s = window.Add(wide);
  BOOST_TEST(s.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(s.message().find("replica-wide") != std::string::npos, s.message());
  BOOST_TEST(s.message().find("4 columns") != std::string::npos, s.message());

  wire::DriftSummary short_stats = SummaryOf("replica-short", Ramp(4, 0, 0, 0, 1), 1, 1);
  short_stats.features.pop_back();
  s = window.Add(short_stats);
  BOOST_TEST(s.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(s.message().find("replica-short") != std::string::npos, s.message());

  wire::DriftSummary rules = SummaryOf("replica-rules", Ramp(4, 0, 0, 0, 1), 1, 1);
  rules.rule_conflicts = {1, 0};
  rules.rule_fired = {1, 0};
  s = window.Add(rules);
  BOOST_TEST(s.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(s.message().find("replica-rules") != std::string::npos, s.message());

  // Nothing of a refused summary is used: neither its statistics nor its sample.
  const DriftReading after = window.Reading();
  BOOST_TEST(after.rows == before.rows);
  BOOST_TEST(after.summaries == before.summaries);
  BOOST_TEST(window.sample_rows() == 4u);
}

BOOST_AUTO_TEST_CASE(HealRowsPutLabelledRowsFirstAndCapAtMaxRows) {
  DriftWindow window(Calibration(), kCols, 5, 100);
  // 6 rows: row i is {i, i, i}; rows 1, 3 and 4 are labelled (1, 0, 1).
  wire::DriftSummary s;
  s.replica_id = "a";
  s.cols = kCols;
  for (int i = 0; i < 6; ++i) s.sample_rows.insert(s.sample_rows.end(), {float(i), float(i), float(i)});
  s.sample_labels = {-1, 1, -1, 0, 1, -1};
  BOOST_TEST(window.Add(s).ok());
  BOOST_TEST(window.labelled_rows() == 3u);
  BOOST_TEST(window.sample_rows() == 3u);
  BOOST_TEST(window.labelled_seen() == 3u);

  std::vector<float> rows;
  std::vector<int8_t> labels;
  window.HealRows(5, &rows, &labels);
  // Labelled 1, 3, 4 first, then the newest unlabelled rows (2 and 5: rows 0 is the oldest).
  const std::vector<int8_t> want_labels = {1, 0, 1, -1, -1};
  const std::vector<float> want_rows = {1, 1, 1, 3, 3, 3, 4, 4, 4, 2, 2, 2, 5, 5, 5};
  BOOST_TEST(labels == want_labels, tt::per_element());
  BOOST_TEST(rows == want_rows, tt::per_element());

  // Fewer than the labelled rows: only the newest labelled ones.
  window.HealRows(2, &rows, &labels);
  BOOST_TEST(labels == (std::vector<int8_t>{0, 1}), tt::per_element());
  BOOST_TEST(rows == (std::vector<float>{3, 3, 3, 4, 4, 4}), tt::per_element());

  // More than there is: everything, 6 rows.
  window.HealRows(50, &rows, &labels);
  BOOST_TEST(labels.size() == 6u);
  BOOST_TEST(rows.size() == 6 * kCols);
}

BOOST_AUTO_TEST_CASE(RowRingsKeepTheNewestRowsAndUnlabelledRowsCannotPushOutLabelledOnes) {
  DriftWindow window(Calibration(), kCols, 5, 4);
  wire::DriftSummary labelled;
  labelled.replica_id = "a";
  labelled.cols = kCols;
  labelled.sample_rows = {-1, -1, -1, -2, -2, -2};
  labelled.sample_labels = {1, 0};
  BOOST_TEST(window.Add(labelled).ok());
  // A burst of 10 unlabelled rows: only the newest 4 stay, the labelled ones all stay.
  BOOST_TEST(window.Add(SummaryOf("b", Ramp(10, 0, 0, 0, 1), 0, 0)).ok());
  BOOST_TEST(window.sample_rows() == 4u);
  BOOST_TEST(window.labelled_rows() == 2u);
  std::vector<float> rows;
  std::vector<int8_t> labels;
  window.HealRows(100, &rows, &labels);
  BOOST_REQUIRE_EQUAL(labels.size(), 6u);
  BOOST_TEST(labels[0] == 1);
  BOOST_TEST(labels[1] == 0);
  BOOST_TEST(rows[0] == -1.0f);
  BOOST_TEST(rows[2 * kCols] == 6.0f);   // the oldest unlabelled row kept is row 6 of 0..9
  BOOST_TEST(rows[5 * kCols] == 9.0f);

  // Labelled rows beyond the capacity: the oldest leave; labelled_seen still counts them all.
  wire::DriftSummary more = labelled;
  more.sample_rows = {};
  more.sample_labels = {};
  for (int i = 0; i < 5; ++i) {
    more.sample_rows.insert(more.sample_rows.end(), {float(10 + i), 0, 0});
    more.sample_labels.push_back(1);
  }
  BOOST_TEST(window.Add(more).ok());
  BOOST_TEST(window.labelled_rows() == 4u);
  BOOST_TEST(window.labelled_seen() == 7u);
  window.HealRows(100, &rows, &labels);
  BOOST_TEST(rows[0] == 11.0f);
}

BOOST_AUTO_TEST_CASE(ForgetDropsOnlyThatReplicasWindows) {
  DriftWindow window(Calibration(), kCols, 5, 100);
  const std::vector<float> a = Ramp(5, 50.0f, 0.0f, 1.0f, 1.0f);  // a drifts far
  const std::vector<float> b = Ramp(4, 0.25f, 0.0f, 1.0f, 0.0f);
  BOOST_TEST(window.Add(SummaryOf("a", a, 5, 0)).ok());
  BOOST_TEST(window.Add(SummaryOf("a", a, 5, 0)).ok());
  BOOST_TEST(window.Add(SummaryOf("b", b, 1, 0)).ok());
  BOOST_TEST(window.Reading().rows == 14u);

  window.Forget("a");
  const DriftReading r = window.Reading();
  BOOST_TEST(r.rows == 4u);
  BOOST_TEST(r.summaries == 1u);
  BOOST_TEST(r.positive_rate == 0.25, tt::tolerance(1e-12));
  BOOST_TEST(r.max_z == 0.25, tt::tolerance(1e-9));
  BOOST_TEST(r.max_feature == 0u);

  window.Forget("nobody");  // harmless
  BOOST_TEST(window.Reading().rows == 4u);
  window.Clear();
  BOOST_TEST(window.Reading().rows == 0u);
  BOOST_TEST(window.sample_rows() == 0u);
  BOOST_TEST(window.labelled_rows() == 0u);
}

}  // namespace
}  // namespace reflex::actors

namespace reflex::actors {
namespace {

// K-class summaries: predicted-class counts merge over replicas, and their TV from clean reads.
BOOST_AUTO_TEST_CASE(KClassCountsMergeAcrossReplicasAndReadAsTotalVariation) {
  FidiCalibration cal;
  DriftWindow w(cal, 1, 4, 100);
  for (const char* id : {"a", "b"}) {
    wire::DriftSummary s;
    s.replica_id = id;
    s.cols = 1;
    s.rows_scored = 4;
    s.features = {RunningStats{4, 0.0, 0.0}};
    s.class_counts = {2, 1, 1};
    s.anchor_class_counts = {0, 0, 3};
    BOOST_REQUIRE(w.Add(s).ok());
  }
  const DriftReading r = w.Reading();
  BOOST_TEST(r.class_counts == (std::vector<uint64_t>{4, 2, 2}), boost::test_tools::per_element());
  BOOST_TEST(r.anchor_class_counts == (std::vector<uint64_t>{0, 0, 6}), boost::test_tools::per_element());
  const std::vector<double> clean = {0.5, 0.25, 0.25};
  BOOST_TEST(ClassCountsTv(r.class_counts, clean) == 0.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ClassCountsTv(r.anchor_class_counts, clean) == 0.75, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ClassCountsTv({}, clean) == 0.0);
}

}  // namespace
}  // namespace reflex::actors
