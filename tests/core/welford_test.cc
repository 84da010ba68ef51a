#define BOOST_TEST_MODULE core_welford
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/welford.h"

using reflex::FeatureStats;
using reflex::RunningStats;

namespace {

std::vector<float> RandomRows(size_t n, size_t dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> rows(n * dims);
  for (size_t r = 0; r < n; ++r) {
    for (size_t d = 0; d < dims; ++d) {
      // Each column has its own location and scale, some far from zero.
      std::normal_distribution<float> dist(static_cast<float>(d) * 10.0f - 20.0f,
                                           0.5f + static_cast<float>(d));
      rows[r * dims + d] = dist(rng);
    }
  }
  return rows;
}

}  // namespace

BOOST_AUTO_TEST_CASE(RunningStatsMatchesTwoPassComputation) {
  std::vector<double> xs = {2, 4, 4, 4, 5, 5, 7, 9};
  RunningStats s;
  for (double x : xs) s.Add(x);
  BOOST_TEST(s.count == 8u);
  BOOST_TEST(s.mean == 5.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(s.variance() == 4.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(s.stddev() == 2.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(VarianceIsZeroBelowTwoValues) {
  RunningStats s;
  BOOST_TEST(s.variance() == 0.0);
  s.Add(3.5);
  BOOST_TEST(s.variance() == 0.0);
  BOOST_TEST(s.mean == 3.5);
}

BOOST_AUTO_TEST_CASE(MergingWithEmptyStatsChangesNothing) {
  RunningStats a;
  a.Add(1.0);
  a.Add(3.0);
  RunningStats empty;
  RunningStats left = a;
  left.Merge(empty);
  BOOST_TEST(left.count == 2u);
  BOOST_TEST(left.mean == 2.0);
  BOOST_TEST(left.m2 == 2.0);
  RunningStats right = empty;
  right.Merge(a);
  BOOST_TEST(right.count == 2u);
  BOOST_TEST(right.mean == 2.0);
  BOOST_TEST(right.m2 == 2.0);
}

BOOST_AUTO_TEST_CASE(MergingRandomPartitionsEqualsWholeStream) {
  const size_t kRows = 10000;
  const size_t kDims = 5;
  for (uint32_t seed : {1u, 7u, 42u, 2024u, 99991u}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      std::vector<float> rows = RandomRows(kRows, kDims, seed);
      FeatureStats whole(kDims);
      whole.AddRows(rows.data(), kRows);

      // Random cut points (duplicates give empty partitions; 0 and kRows are always present).
      std::mt19937 rng(seed + 1);
      std::uniform_int_distribution<size_t> cut(0, kRows);
      std::vector<size_t> cuts = {0, kRows, 0, kRows / 2, kRows / 2};
      for (int i = 0; i < 20; ++i) cuts.push_back(cut(rng));
      std::sort(cuts.begin(), cuts.end());

      std::vector<FeatureStats> parts;
      for (size_t i = 0; i + 1 < cuts.size(); ++i) {
        FeatureStats part(kDims);
        part.AddRows(rows.data() + cuts[i] * kDims, cuts[i + 1] - cuts[i]);
        parts.push_back(part);
      }
      BOOST_TEST(std::any_of(parts.begin(), parts.end(),
                             [](const FeatureStats& p) { return p.count() == 0; }));
      // Merge order must not matter either.
      std::shuffle(parts.begin(), parts.end(), rng);
      FeatureStats merged(kDims);
      for (const FeatureStats& part : parts) BOOST_TEST(merged.Merge(part).ok());

      BOOST_TEST(merged.count() == whole.count());
      for (size_t d = 0; d < kDims; ++d) {
        BOOST_TEST(merged.feature(d).count == whole.feature(d).count);
        BOOST_TEST(std::abs(merged.feature(d).mean - whole.feature(d).mean) < 1e-9);
        BOOST_TEST(std::abs(merged.feature(d).variance() - whole.feature(d).variance()) < 1e-9);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(AddRowsEqualsAddingEachRow) {
  std::vector<float> rows = RandomRows(100, 3, 5);
  FeatureStats a(3), b(3);
  a.AddRows(rows.data(), 100);
  for (size_t r = 0; r < 100; ++r) b.AddRow(rows.data() + r * 3);
  BOOST_TEST(a.count() == 100u);
  for (size_t d = 0; d < 3; ++d) {
    BOOST_TEST(a.feature(d).mean == b.feature(d).mean);
    BOOST_TEST(a.feature(d).m2 == b.feature(d).m2);
  }
  BOOST_TEST(a.features().size() == 3u);
}

BOOST_AUTO_TEST_CASE(MergingMismatchedDimsIsAnError) {
  FeatureStats a(3), b(4);
  std::vector<float> row = {1, 2, 3, 4};
  b.AddRow(row.data());
  reflex::Status s = a.Merge(b);
  BOOST_TEST(!s.ok());
  BOOST_CHECK(s.code() == reflex::StatusCode::kInvalidArgument);
  BOOST_TEST(s.message().find('3') != std::string::npos);
  BOOST_TEST(s.message().find('4') != std::string::npos);
  BOOST_TEST(a.count() == 0u);
}
