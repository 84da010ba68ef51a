#define BOOST_TEST_MODULE core_idx
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/idx.h"

using reflex::IdxToImages;
using reflex::IdxToLabels;
using reflex::ParseIdx;

namespace {

std::vector<uint8_t> Header(uint8_t type, std::vector<uint32_t> dims) {
  std::vector<uint8_t> b{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    b.push_back(d >> 24);
    b.push_back(d >> 16);
    b.push_back(d >> 8);
    b.push_back(d);
  }
  return b;
}

std::string Error(const std::vector<uint8_t>& bytes) {
  auto r = ParseIdx(bytes.data(), bytes.size(), "f.idx");
  return r.ok() ? std::string("ok") : r.status().message();
}

}  // namespace

BOOST_AUTO_TEST_CASE(ParsesImagesAndScalesPixelsToUnitRange) {
  std::vector<uint8_t> b = Header(0x08, {2, 2, 2});
  for (uint8_t v : {0, 255, 51, 102, 0, 0, 0, 255}) b.push_back(v);
  auto array = ParseIdx(b.data(), b.size(), "f.idx");
  BOOST_REQUIRE(array.ok());
  auto images = IdxToImages(*array, "f.idx");
  BOOST_REQUIRE(images.ok());
  BOOST_TEST(images->count == 2u);
  BOOST_TEST(images->pixels_per_image() == 4u);
  BOOST_TEST(images->pixels[1] == 1.0f);
  BOOST_TEST(images->pixels[2] == 0.2f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(ParsesLabels) {
  std::vector<uint8_t> b = Header(0x08, {3});
  for (uint8_t v : {7, 0, 9}) b.push_back(v);
  auto labels = IdxToLabels(*ParseIdx(b.data(), b.size(), "l.idx"), "l.idx");
  BOOST_REQUIRE(labels.ok());
  BOOST_TEST((*labels == std::vector<uint8_t>{7, 0, 9}));
}

BOOST_AUTO_TEST_CASE(RefusesBadFilesNamingTheFileAndTheProblem) {
  BOOST_TEST(Error({0, 0}).find("f.idx: 2 bytes is too short") == 0u);
  BOOST_TEST(Error({1, 0, 8, 1, 0, 0, 0, 0}).find("not an IDX file") != std::string::npos);
  BOOST_TEST(Error(Header(0x0D, {1})).find("data type 0x0D is not supported") != std::string::npos);
  BOOST_TEST(Error({0, 0, 8, 3, 0, 0}).find("truncated IDX header") != std::string::npos);
  std::vector<uint8_t> short_data = Header(0x08, {2, 2, 2});
  short_data.push_back(1);
  BOOST_TEST(Error(short_data) == "f.idx: header says 2 x 2 x 2 = 8 bytes of data, found 1");
}

BOOST_AUTO_TEST_CASE(RefusesLabelsWhereImagesAreExpectedAndTheReverse) {
  std::vector<uint8_t> labels = Header(0x08, {1});
  labels.push_back(3);
  auto as_images = IdxToImages(*ParseIdx(labels.data(), labels.size(), "l.idx"), "l.idx");
  BOOST_TEST(!as_images.ok());
  BOOST_TEST(as_images.status().message().find("l.idx: expected images") == 0u);
  std::vector<uint8_t> images = Header(0x08, {1, 1, 1});
  images.push_back(3);
  auto as_labels = IdxToLabels(*ParseIdx(images.data(), images.size(), "i.idx"), "i.idx");
  BOOST_TEST(!as_labels.ok());
  BOOST_TEST(as_labels.status().message().find("i.idx: expected labels") == 0u);
}
