#define BOOST_TEST_MODULE core_image_centroid
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "core/image_centroid.h"

using reflex::Centroid;

namespace {

constexpr uint32_t kH = 6, kW = 8;

std::vector<float> Blank() { return std::vector<float>(kH * kW, 0.0f); }

}  // namespace

BOOST_AUTO_TEST_CASE(OneLitPixelIsItsImagesCentroid) {
  std::vector<float> img = Blank();
  img[4 * kW + 1] = 0.7f;
  const Centroid c = reflex::ImageCentroid(img.data(), kH, kW);
  BOOST_TEST(c.row == 4.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.col == 1.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(TheCentroidWeighsPixelsByIntensity) {
  std::vector<float> img = Blank();
  img[0 * kW + 0] = 1.0f;  // (0, 0)
  img[3 * kW + 6] = 3.0f;  // (3, 6): three times the weight
  const Centroid c = reflex::ImageCentroid(img.data(), kH, kW);
  BOOST_TEST(c.row == 2.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.col == 4.5, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(ABlankImageSitsAtTheGeometricCentre) {
  std::vector<float> img = Blank();
  const Centroid c = reflex::ImageCentroid(img.data(), kH, kW);
  BOOST_TEST(c.row == 2.5);
  BOOST_TEST(c.col == 3.5);
}

BOOST_AUTO_TEST_CASE(SpreadIsTheRootMeanSquareDistanceFromTheCentre) {
  std::vector<float> two;
  std::vector<float> a = Blank(), b = Blank();
  a[1 * kW + 1] = 1.0f;  // distance from (1, 4): 3
  b[5 * kW + 4] = 1.0f;  // distance from (1, 4): 4
  two.insert(two.end(), a.begin(), a.end());
  two.insert(two.end(), b.begin(), b.end());
  const Centroid mean = reflex::MeanCentroid(two.data(), 2, kH, kW);
  BOOST_TEST(mean.row == 3.0);
  BOOST_TEST(mean.col == 2.5);
  BOOST_TEST(reflex::CentroidSpread(two.data(), 2, kH, kW, {1.0, 4.0}) == std::sqrt((9.0 + 16.0) / 2),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(reflex::CentroidSpread(two.data(), 0, kH, kW, {1.0, 4.0}) == 0.0);
}

BOOST_AUTO_TEST_CASE(ImagesCountAsMovedOnlyBeyondTheFactorAndAWholePixel) {
  BOOST_TEST(reflex::CentroidsScattered(2.5, 1.0, 2.0));
  BOOST_TEST(!reflex::CentroidsScattered(1.9, 1.0, 2.0));   // within the factor
  BOOST_TEST(!reflex::CentroidsScattered(0.9, 0.2, 2.0));   // beyond the factor but under a pixel
  BOOST_TEST(!reflex::CentroidsScattered(5.0, 1.0, 0.0));   // factor 0: off
  BOOST_TEST(!reflex::CentroidsScattered(5.0, 0.0, 2.0));   // no clean calibration
}
