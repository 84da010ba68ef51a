#define BOOST_TEST_MODULE wire_score_rows
#include <boost/test/unit_test.hpp>

// Score request rows: the three accepted shapes (float32 bin, flat array with cols, 2-D array)
// and every refusal of a row shape, width, count or value.

#include <msgpack.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "frame_edit.h"
#include "wire/codec.h"
#include "wire_expect.h"
#include "wire_samples.h"

using namespace reflex;
using namespace reflex::wire;
using namespace reflex::wire::testing;

namespace {

// The request of PROTOCOL.md's worked example: request 7, two rows of two features.
ScoreRequest WorkedExampleRequest() {
  ScoreRequest request;
  request.request_id = 7;
  request.cols = 2;
  request.rows = {0.5f, -1.0f, 2.0f, 0.25f};
  return request;
}

// Ten features per row, like the synthetic task.
ScoreRequest TenFeatureRequest(size_t rows) {
  ScoreRequest request;
  request.request_id = 5;
  request.cols = 10;
  request.rows.assign(rows * 10, 0.25f);
  return request;
}

std::vector<std::vector<double>> Rows(size_t rows, size_t cols) {
  return std::vector<std::vector<double>>(rows, std::vector<double>(cols, 1.5));
}

}  // namespace

BOOST_AUTO_TEST_CASE(AcceptsFramesWrittenByPythonMsgpack) {
  // msgpack.packb([1, 1, {"request_id": 7, "rows": [[0.5, -1.0], [2, 0.25]]}])
  const Message two_d = DecodeOk(FromHex(
      "93 01 01 82 aa 72 65 71 75 65 73 74 5f 69 64 07 a4 72 6f 77 73 92 92 cb 3f e0 00 00 00 "
      "00 00 00 cb bf f0 00 00 00 00 00 00 92 02 cb 3f d0 00 00 00 00 00 00"));
  ExpectSameMessage(WorkedExampleRequest(), two_d);
  // msgpack.packb([1, 1, {"request_id": 8, "cols": 2,
  //                       "rows": struct.pack("<4f", 0.5, -1.0, 2.0, 0.25)}])
  ScoreRequest expected = WorkedExampleRequest();
  expected.request_id = 8;
  const Message bin = DecodeOk(FromHex(
      "93 01 01 83 aa 72 65 71 75 65 73 74 5f 69 64 08 a4 63 6f 6c 73 02 a4 72 6f 77 73 c4 10 "
      "00 00 00 3f 00 00 80 bf 00 00 00 40 00 00 80 3e"));
  ExpectSameMessage(expected, bin);
}

BOOST_AUTO_TEST_CASE(AcceptsRowsAsTwoDimensionalArrayWithoutCols) {
  FrameEdit edit(WorkedExampleRequest());
  edit.Remove("cols").Set("rows", std::vector<std::vector<double>>{{0.5, -1.0}, {2.0, 0.25}});
  ExpectSameMessage(WorkedExampleRequest(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(AcceptsTwoDimensionalRowsOfMixedIntegersAndFloats) {
  FrameEdit edit(WorkedExampleRequest());
  msgpack::zone& zone = edit.zone();
  // [[0.5f32, -1], [2, 0.25f64]]
  msgpack::object row0 = msgpack::object(std::make_tuple(0.5f, -1), zone);
  msgpack::object row1 = msgpack::object(std::make_tuple(2u, 0.25), zone);
  edit.Set("rows", std::vector<msgpack::object>{row0, row1});
  ExpectSameMessage(WorkedExampleRequest(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(AcceptsTwoDimensionalRowsWithMatchingColsField) {
  FrameEdit edit(WorkedExampleRequest());
  edit.Set("rows", std::vector<std::vector<float>>{{0.5f, -1.0f}, {2.0f, 0.25f}});
  ExpectSameMessage(WorkedExampleRequest(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(AcceptsRowsAsFlatArrayWithRowWidth) {
  FrameEdit edit(WorkedExampleRequest());
  edit.Set("rows", std::vector<double>{0.5, -1.0, 2.0, 0.25});
  ExpectSameMessage(WorkedExampleRequest(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(AcceptsEmptyScoreRequestInEveryRowShape) {
  const ScoreRequest empty;
  ExpectSameMessage(empty, DecodeOk(Encode(empty)));
  FrameEdit flat(empty);
  flat.Set("rows", std::vector<double>{});
  ExpectSameMessage(empty, DecodeOk(flat.Frame()));
  FrameEdit flat_with_width(WorkedExampleRequest());
  flat_with_width.SetFloatBin("rows", {});
  const ScoreRequest decoded = std::get<ScoreRequest>(DecodeOk(flat_with_width.Frame()));
  BOOST_TEST(decoded.n_rows() == 0u);
}

BOOST_AUTO_TEST_CASE(RequiresColsForFlatRowsButNotForTwoDimensionalRows) {
  FrameEdit flat(SampleScoreRequest());
  flat.Remove("cols");
  BOOST_TEST(ExpectRefused(flat.Frame(), ErrorCode::kMissingField) ==
             "score_request: missing field 'cols' (required unless rows is a 2-D array)");
  FrameEdit two_d(SampleScoreRequest());
  two_d.Remove("cols").Set("rows", Rows(2, 3));
  BOOST_TEST(Decode(two_d.Frame()).ok());
}

BOOST_AUTO_TEST_CASE(NamesTheRowWithTheWrongNumberOfValues) {
  FrameEdit edit(TenFeatureRequest(5));
  auto rows = Rows(5, 10);
  rows[3].pop_back();
  edit.Remove("cols").Set("rows", rows);
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kWrongFeatureCount) ==
             "score_request.rows: row 3 has 9 values, expected 10");
  FrameEdit with_cols(TenFeatureRequest(5));
  with_cols.Set("rows", rows);
  BOOST_TEST(ExpectRefused(with_cols.Frame(), ErrorCode::kWrongFeatureCount) ==
             "score_request.rows: row 3 has 9 values, expected 10");
}

BOOST_AUTO_TEST_CASE(RefusesRequestsWhoseWidthIsNotTheModels) {
  Limits limits;
  limits.expected_cols = 10;
  ScoreRequest nine = TenFeatureRequest(2);
  nine.cols = 9;
  nine.rows.resize(18);
  BOOST_TEST(ExpectRefused(Encode(nine), ErrorCode::kWrongFeatureCount, limits) ==
             "score_request.cols: 9 features per row, expected 10");
  FrameEdit two_d(nine);
  two_d.Remove("cols").Set("rows", Rows(2, 9));
  BOOST_TEST(ExpectRefused(two_d.Frame(), ErrorCode::kWrongFeatureCount, limits) ==
             "score_request.rows: 9 features per row, expected 10");
  BOOST_TEST(Decode(Encode(TenFeatureRequest(2)), limits).ok());
}

BOOST_AUTO_TEST_CASE(RefusesFlatRowsThatAreNotAWholeNumberOfRows) {
  ScoreRequest request = TenFeatureRequest(2);
  request.rows.pop_back();
  BOOST_TEST(ExpectRefused(Encode(request), ErrorCode::kWrongFeatureCount) ==
             "score_request.rows: 19 values is not a whole number of rows of 10");
  ScoreRequest zero_width = TenFeatureRequest(1);
  zero_width.cols = 0;
  ExpectRefused(Encode(zero_width), ErrorCode::kWrongFeatureCount);
  FrameEdit empty_rows(TenFeatureRequest(1));
  empty_rows.Remove("cols").Set("rows", Rows(2, 0));
  ExpectRefused(empty_rows.Frame(), ErrorCode::kWrongFeatureCount);
}

BOOST_AUTO_TEST_CASE(RefusesMoreFeaturesPerRowThanLimit) {
  Limits limits;
  limits.max_cols = 8;
  const std::string message =
      ExpectRefused(Encode(TenFeatureRequest(1)), ErrorCode::kTooLarge, limits);
  BOOST_TEST(message == "score_request.cols: 10 features per row, over the limit 8");
  FrameEdit two_d(TenFeatureRequest(1));
  two_d.Remove("cols").Set("rows", Rows(1, 10));
  ExpectRefused(two_d.Frame(), ErrorCode::kTooLarge, limits);
}

BOOST_AUTO_TEST_CASE(RefusesMoreRowsThanLimitInEveryRowShape) {
  Limits limits;
  limits.max_rows = 4;
  BOOST_TEST(Decode(Encode(TenFeatureRequest(4)), limits).ok());
  BOOST_TEST(ExpectRefused(Encode(TenFeatureRequest(5)), ErrorCode::kTooManyRows, limits) ==
             "score_request.rows: 5 rows, over the limit 4");
  FrameEdit two_d(TenFeatureRequest(5));
  two_d.Remove("cols").Set("rows", Rows(5, 10));
  ExpectRefused(two_d.Frame(), ErrorCode::kTooManyRows, limits);
  FrameEdit flat(TenFeatureRequest(5));
  flat.Set("rows", std::vector<double>(50, 1.0));
  ExpectRefused(flat.Frame(), ErrorCode::kTooManyRows, limits);
}

BOOST_AUTO_TEST_CASE(NamesTheNonFiniteValueByRowAndColumn) {
  ScoreRequest request = TenFeatureRequest(5);
  request.rows[3 * 10 + 7] = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(ExpectRefused(Encode(request), ErrorCode::kNonFinite) ==
             "score_request.rows[3][7]: NaN");
  auto rows = Rows(2, 3);
  rows[1][2] = -std::numeric_limits<double>::infinity();
  FrameEdit two_d(SampleScoreRequest());
  two_d.Remove("cols").Set("rows", rows);
  BOOST_TEST(ExpectRefused(two_d.Frame(), ErrorCode::kNonFinite) ==
             "score_request.rows[1][2]: -Inf");
}

BOOST_AUTO_TEST_CASE(RefusesNumbersBeyondFloat32Range) {
  FrameEdit edit(SampleScoreRequest());
  edit.Set("rows", std::vector<double>{1, 2, 3, 4, 1e300, 6});
  const std::string message = ExpectRefused(edit.Frame(), ErrorCode::kNonFinite);
  BOOST_TEST(message.find("score_request.rows[4]: ") == 0u);
  BOOST_TEST(message.find("outside the float32 range") != std::string::npos);
}
