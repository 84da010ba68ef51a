#define BOOST_TEST_MODULE wire_codec
#include <boost/test/unit_test.hpp>

// Round trips of every message type, the encoding itself (envelope, float32 bins, float64,
// the PROTOCOL.md examples byte for byte) and the decoder's tolerances (nil, unknown fields,
// unknown error codes, alignment).

#include <msgpack.hpp>

#include <cmath>
#include <cstring>
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

// The worked example of PROTOCOL.md: request 7, two rows of two features.
ScoreRequest WorkedExampleRequest() {
  ScoreRequest request;
  request.request_id = 7;
  request.cols = 2;
  request.rows = {0.5f, -1.0f, 2.0f, 0.25f};
  return request;
}
const char* kWorkedExampleHex =
    "93 01 01 83 aa 72 65 71 75 65 73 74 5f 69 64 07 a4 63 6f 6c 73 02 a4 72 6f 77 73 c4 10 "
    "00 00 00 3f 00 00 80 bf 00 00 00 40 00 00 80 3e";

}  // namespace

BOOST_AUTO_TEST_CASE(RoundTripsEveryMessageTypeFieldForField) {
  std::vector<bool> seen(16, false);
  for (const Message& message : SampleMessages()) {
    const Message decoded = DecodeOk(Encode(message));
    BOOST_TEST(TypeOf(decoded) == TypeOf(message));
    ExpectSameMessage(message, decoded);
    seen[static_cast<size_t>(TypeOf(message))] = true;
  }
  for (int type = 1; type <= 15; ++type) {
    BOOST_TEST_INFO("message type " << type);
    BOOST_TEST(seen[type]);
  }
}

BOOST_AUTO_TEST_CASE(ReencodingADecodedMessageGivesTheSameBytes) {
  for (const Message& message : SampleMessages()) {
    const std::string frame = Encode(message);
    BOOST_TEST(Encode(DecodeOk(frame)) == frame);
  }
}

BOOST_AUTO_TEST_CASE(RoundTripsLargestScoreRequestTheDefaultLimitsAllow) {
  ScoreRequest request;
  request.request_id = 1;
  request.cols = 100;
  request.rows.resize(Limits{}.max_rows * request.cols);
  for (size_t i = 0; i < request.rows.size(); ++i) request.rows[i] = static_cast<float>(i) * 0.5f;
  const std::string frame = Encode(request);
  BOOST_TEST(frame.size() < Limits{}.max_message_bytes);
  ExpectSameMessage(request, DecodeOk(frame));
}

BOOST_AUTO_TEST_CASE(RoundTripsFullSizeAdapterThatStillVerifies) {
  AdapterUpdate update;
  update.sequence = 3;
  update.adapter = SampleAdapter(64, 64, 2);
  const Message decoded = DecodeOk(Encode(update));
  const AdapterVersion& adapter = std::get<AdapterUpdate>(decoded).adapter;
  ExpectSameAdapter(update.adapter, adapter);
  BOOST_TEST(adapter.Verify().ok());
}

BOOST_AUTO_TEST_CASE(EncodesEnvelopeAsVersionTypeAndBodyMap) {
  const std::string frame = Encode(SampleHeartbeat());
  msgpack::object_handle handle = msgpack::unpack(frame.data(), frame.size());
  const msgpack::object& root = handle.get();
  BOOST_TEST_REQUIRE(root.type == msgpack::type::ARRAY);
  BOOST_TEST_REQUIRE(root.via.array.size == 3u);
  BOOST_TEST(root.via.array.ptr[0].as<uint64_t>() == kProtocolVersion);
  BOOST_TEST(root.via.array.ptr[1].as<uint64_t>() == 8u);  // kHeartbeat
  BOOST_TEST_REQUIRE(root.via.array.ptr[2].type == msgpack::type::MAP);
  BOOST_TEST(root.via.array.ptr[2].via.map.size == 5u);
  BOOST_TEST(std::string(root.via.array.ptr[2].via.map.ptr[0].key.as<std::string>()) ==
             "sender_id");
}

BOOST_AUTO_TEST_CASE(EncodesFloatVectorsAsOneBinOfLittleEndianFloat32) {
  FrameEdit edit(SampleScoreRequest());
  const msgpack::object* rows = edit.Get("rows");
  BOOST_TEST_REQUIRE(rows != nullptr);
  BOOST_TEST_REQUIRE(rows->type == msgpack::type::BIN);
  BOOST_TEST(rows->via.bin.size == 6u * 4u);
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(rows->via.bin.ptr);
  // 0.5f = 0x3f000000, little-endian first.
  BOOST_TEST(bytes[0] == 0x00);
  BOOST_TEST(bytes[3] == 0x3f);
}

BOOST_AUTO_TEST_CASE(EncodesWorkedExampleOfProtocolDocByteForByte) {
  const std::string frame = Encode(WorkedExampleRequest());
  BOOST_TEST(ToHex(frame) == ToHex(FromHex(kWorkedExampleHex)));
  ExpectSameMessage(WorkedExampleRequest(), DecodeOk(FromHex(kWorkedExampleHex)));
}

BOOST_AUTO_TEST_CASE(AcceptsOtherFloatVectorsAsArraysOfNumbers) {
  FrameEdit edit(SampleScoreReply());
  edit.Set("probabilities", std::vector<double>{0.125, 0.875});
  ExpectSameMessage(SampleScoreReply(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(TreatsNilOptionalFieldAsAbsent) {
  FrameEdit edit(SampleScoreRequest(true));
  edit.SetNil("deadline_unix_us");
  const ScoreRequest decoded = std::get<ScoreRequest>(DecodeOk(edit.Frame()));
  BOOST_TEST(!decoded.deadline_unix_us.has_value());
}

BOOST_AUTO_TEST_CASE(AcceptsNegativeDeadlineAndTimes) {
  ScoreRequest request = SampleScoreRequest();
  request.deadline_unix_us = -1;
  ExpectSameMessage(request, DecodeOk(Encode(request)));
  Heartbeat heartbeat = SampleHeartbeat();
  heartbeat.unix_ms = std::numeric_limits<int64_t>::min();
  ExpectSameMessage(heartbeat, DecodeOk(Encode(heartbeat)));
}

BOOST_AUTO_TEST_CASE(IgnoresUnknownFieldsSoNewerPeersCanAddThem) {
  FrameEdit edit(SampleHeartbeat());
  edit.Set("added_in_a_later_minor_release", std::vector<int>{1, 2, 3});
  ExpectSameMessage(SampleHeartbeat(), DecodeOk(edit.Frame()));
}

BOOST_AUTO_TEST_CASE(KeepsNonFiniteValuesWhenConfiguredToAllowThem) {
  Limits allow;
  allow.allow_non_finite = true;
  ScoreRequest request = SampleScoreRequest();
  request.rows[1] = std::numeric_limits<float>::quiet_NaN();
  request.rows[4] = -std::numeric_limits<float>::infinity();
  ExpectSameMessage(request, DecodeOk(Encode(request), allow));
  AdapterUpdate update = SampleAdapterUpdate();
  update.adapter.weights[3] = std::numeric_limits<float>::infinity();
  ExpectSameMessage(update, DecodeOk(Encode(update), allow));
}

BOOST_AUTO_TEST_CASE(CarriesNonFiniteMetricsBecauseMetricsMayBeUndefined) {
  HealResult result = SampleHealResult();
  result.metrics["f1_without_positives"] = std::numeric_limits<double>::quiet_NaN();
  const HealResult decoded = std::get<HealResult>(DecodeOk(Encode(result)));
  BOOST_TEST(std::isnan(decoded.metrics.at("f1_without_positives")));
}

BOOST_AUTO_TEST_CASE(DoesNotVerifyAdapterChecksumLeavingThatToTheReceiver) {
  AdapterUpdate update = SampleAdapterUpdate();
  update.adapter.checksum ^= 1;
  const AdapterUpdate decoded = std::get<AdapterUpdate>(DecodeOk(Encode(update)));
  BOOST_TEST(decoded.adapter.checksum == update.adapter.checksum);
  BOOST_TEST(!decoded.adapter.Verify().ok());
}

BOOST_AUTO_TEST_CASE(RecoversRequestIdFromDecodedAndRefusedMessages) {
  const Decoded ok = Decode(Encode(SampleScoreRequest()));
  BOOST_TEST_REQUIRE(ok.request_id.has_value());
  BOOST_TEST(*ok.request_id == 42u);

  FrameEdit bad(SampleScoreRequest());
  bad.Set("cols", 4);  // 6 values are not a whole number of rows of 4
  const Decoded refused = Decode(bad.Frame());
  BOOST_TEST(!refused.ok());
  BOOST_TEST_REQUIRE(refused.request_id.has_value());
  BOOST_TEST(*refused.request_id == 42u);

  FrameEdit future(SampleControlRequest());
  future.Version(3);
  const Decoded unsupported = Decode(future.Frame());
  BOOST_TEST(unsupported.error.code == ErrorCode::kUnsupportedVersion);
  BOOST_TEST_REQUIRE(unsupported.request_id.has_value());
  BOOST_TEST(*unsupported.request_id == 45u);

  BOOST_TEST(!Decode(Encode(SampleHeartbeat())).request_id.has_value());
  BOOST_TEST(!Decode(std::string("\x93\x01", 2)).request_id.has_value());
}

BOOST_AUTO_TEST_CASE(KeepsUnknownErrorCodesFromNewerPeers) {
  FrameEdit edit(SampleControlReply());
  edit.Set("error", 999);
  const ControlReply reply = std::get<ControlReply>(DecodeOk(edit.Frame()));
  BOOST_TEST(static_cast<int>(reply.error) == 999);
  BOOST_TEST(std::string(ErrorCodeName(reply.error)) == "UnknownError");
}

BOOST_AUTO_TEST_CASE(DecodesFramesAtAnyAlignment) {
  const std::string frame = Encode(SampleAdapterUpdate());
  for (size_t shift = 1; shift < 8; ++shift) {
    std::vector<char> buffer(frame.size() + shift);
    std::memcpy(buffer.data() + shift, frame.data(), frame.size());
    const Decoded decoded = Decode(buffer.data() + shift, frame.size());
    BOOST_TEST_REQUIRE(decoded.ok());
    ExpectSameMessage(SampleAdapterUpdate(), *decoded.message);
  }
}

BOOST_AUTO_TEST_CASE(EncodesDoublesAsFloat64EvenWhenIntegralOrNegativeZero) {
  HealResult result = SampleHealResult(false);
  result.metrics = {{"steps", 5.0}, {"signed_zero", -0.0}};
  FrameEdit edit(result);
  const msgpack::object* metrics = edit.Get("metrics");
  BOOST_TEST_REQUIRE(metrics != nullptr);
  for (size_t i = 0; i < metrics->via.map.size; ++i) {
    BOOST_TEST(metrics->via.map.ptr[i].val.type == msgpack::type::FLOAT64);
  }
  const HealResult decoded = std::get<HealResult>(DecodeOk(Encode(result)));
  BOOST_TEST(decoded.metrics.at("steps") == 5.0);
  BOOST_TEST(std::signbit(decoded.metrics.at("signed_zero")));
}

// PROTOCOL.md's adapter test vector, computed independently (Python: struct + msgpack) from the
// documented checksum definition and field list.

BOOST_AUTO_TEST_CASE(MatchesAdapterUpdateTestVectorOfProtocolDoc) {
  AdapterUpdate update;
  update.sequence = 5;
  update.adapter.version = 2;
  update.adapter.parent = 1;
  update.adapter.epoch = 3;
  update.adapter.dims = {1, 1};
  update.adapter.weights = {0.5f, -0.25f, 1.0f, 0.0f, 0.1f};
  update.adapter.Seal();
  BOOST_TEST(update.adapter.checksum == 0x87bd046e85b7b3edull);
  const std::string expected = FromHex(
      "93 01 07 82 a8 73 65 71 75 65 6e 63 65 05 a7 61 64 61 70 74 65 72 87 a7 76 65 72 73 69 "
      "6f 6e 02 a6 70 61 72 65 6e 74 01 a5 65 70 6f 63 68 03 a5 77 69 64 74 68 01 a6 68 69 64 "
      "64 65 6e 01 a7 77 65 69 67 68 74 73 c4 14 00 00 00 3f 00 00 80 be 00 00 80 3f 00 00 00 "
      "00 cd cc cc 3d a8 63 68 65 63 6b 73 75 6d cf 87 bd 04 6e 85 b7 b3 ed");
  BOOST_TEST(ToHex(Encode(update)) == ToHex(expected));
  const AdapterUpdate decoded = std::get<AdapterUpdate>(DecodeOk(expected));
  BOOST_TEST(decoded.adapter.Verify().ok());
}

// PROTOCOL.md's score reply example, as Python's msgpack.packb writes it.

BOOST_AUTO_TEST_CASE(EncodesScoreReplyExampleOfProtocolDocByteForByte) {
  ScoreReply reply;
  reply.request_id = 7;
  reply.probabilities = {0.25f, 0.75f};
  reply.version = 3;
  const std::string expected = FromHex(
      "93 01 02 85 aa 72 65 71 75 65 73 74 5f 69 64 07 a5 65 72 72 6f 72 00 a7 6d 65 73 73 61 "
      "67 65 a0 ad 70 72 6f 62 61 62 69 6c 69 74 69 65 73 c4 08 00 00 80 3e 00 00 40 3f a7 76 "
      "65 72 73 69 6f 6e 03");
  BOOST_TEST(ToHex(Encode(reply)) == ToHex(expected));
}

BOOST_AUTO_TEST_CASE(CarriesEveryErrorCodeInRepliesWithStableNumbersAndNames) {
  const std::vector<std::tuple<ErrorCode, int, std::string>> table = {
      {ErrorCode::kOk, 0, "Ok"},
      {ErrorCode::kMalformed, 1, "Malformed"},
      {ErrorCode::kUnsupportedVersion, 2, "UnsupportedVersion"},
      {ErrorCode::kUnknownType, 3, "UnknownType"},
      {ErrorCode::kMissingField, 4, "MissingField"},
      {ErrorCode::kWrongType, 5, "WrongType"},
      {ErrorCode::kWrongFeatureCount, 6, "WrongFeatureCount"},
      {ErrorCode::kNonFinite, 7, "NonFinite"},
      {ErrorCode::kTooManyRows, 8, "TooManyRows"},
      {ErrorCode::kTooLarge, 9, "TooLarge"},
      {ErrorCode::kDeadlineExceeded, 10, "DeadlineExceeded"},
      {ErrorCode::kOverloaded, 11, "Overloaded"},
      {ErrorCode::kNotReady, 12, "NotReady"},
      {ErrorCode::kUnauthorized, 13, "Unauthorized"},
      {ErrorCode::kInvalidArgument, 14, "InvalidArgument"},
      {ErrorCode::kInternal, 15, "Internal"},
  };
  for (const auto& [code, number, name] : table) {
    BOOST_TEST(static_cast<int>(code) == number);
    BOOST_TEST(ErrorCodeName(code) == name);
    ScoreReply reply;
    reply.request_id = 9;
    reply.error = code;
    reply.message = name;
    ExpectSameMessage(reply, DecodeOk(Encode(reply)));
    ControlReply control{9, code, name, "{}"};
    ExpectSameMessage(control, DecodeOk(Encode(control)));
  }
}

BOOST_AUTO_TEST_CASE(NamesEveryMessageTypeInSnakeCase) {
  const std::vector<std::string> names = {
      "score_request", "score_reply",    "label_feedback",  "drift_summary",
      "heal_job",      "heal_result",    "adapter_update",  "heartbeat",
      "control_request", "control_reply", "snapshot_request"};
  for (size_t i = 0; i < names.size(); ++i) {
    BOOST_TEST(MessageTypeName(static_cast<MessageType>(i + 1)) == names[i]);
  }
}
