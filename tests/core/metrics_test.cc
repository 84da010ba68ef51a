#define BOOST_TEST_MODULE core_metrics
#include <boost/test/unit_test.hpp>

#include "core/metrics.h"

using reflex::Confusion;

BOOST_AUTO_TEST_CASE(CountsEachCellAndDerivesMetrics) {
  Confusion c;
  // 3 tp, 1 fp, 4 tn, 2 fn
  for (int i = 0; i < 3; ++i) c.Add(true, true);
  c.Add(true, false);
  for (int i = 0; i < 4; ++i) c.Add(false, false);
  for (int i = 0; i < 2; ++i) c.Add(false, true);
  BOOST_TEST(c.tp == 3u);
  BOOST_TEST(c.fp == 1u);
  BOOST_TEST(c.tn == 4u);
  BOOST_TEST(c.fn == 2u);
  BOOST_TEST(c.total() == 10u);
  BOOST_TEST(c.accuracy() == 0.7, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.precision() == 0.75, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.recall() == 0.6, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.f1() == 2 * 0.75 * 0.6 / (0.75 + 0.6), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.positive_rate() == 0.4, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(UndefinedMetricsAreZero) {
  Confusion empty;
  BOOST_TEST(empty.accuracy() == 0.0);
  BOOST_TEST(empty.precision() == 0.0);
  BOOST_TEST(empty.recall() == 0.0);
  BOOST_TEST(empty.f1() == 0.0);
  BOOST_TEST(empty.positive_rate() == 0.0);
  Confusion negatives_only;
  negatives_only.Add(false, false);
  BOOST_TEST(negatives_only.accuracy() == 1.0);
  BOOST_TEST(negatives_only.precision() == 0.0);
  BOOST_TEST(negatives_only.recall() == 0.0);
  BOOST_TEST(negatives_only.f1() == 0.0);
}

BOOST_AUTO_TEST_CASE(MergeAddsCounts) {
  Confusion a, b;
  a.Add(true, true);
  a.Add(false, true);
  b.Add(true, false);
  b.Add(false, false);
  b.Add(true, true);
  a.Merge(b);
  BOOST_TEST(a.tp == 2u);
  BOOST_TEST(a.fp == 1u);
  BOOST_TEST(a.tn == 1u);
  BOOST_TEST(a.fn == 1u);
  BOOST_TEST(a.total() == 5u);
}
