#define BOOST_TEST_MODULE wire_frame_errors
#include <boost/test/unit_test.hpp>

// Refusals before any message field is read: frame size, msgpack structure and limits, the
// envelope, protocol version and message type.

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

BOOST_AUTO_TEST_CASE(RefusesFrameOverByteLimitBeforeParsing) {
  Limits limits;
  limits.max_message_bytes = 16;
  const std::string message =
      ExpectRefused(Encode(SampleHeartbeat()), ErrorCode::kTooLarge, limits);
  BOOST_TEST(message.find("over the limit 16") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(RefusesEmptyFrame) {
  BOOST_TEST(ExpectRefused("", ErrorCode::kMalformed) == "frame: empty");
  BOOST_TEST(Decode(nullptr, 0).error.code == ErrorCode::kMalformed);
}

BOOST_AUTO_TEST_CASE(RefusesBytesThatAreNotMsgpack) {
  const std::string message =
      ExpectRefused(std::string("\x93\x01\xc1\x00\x00", 5), ErrorCode::kMalformed);
  BOOST_TEST(message == "frame: byte 0xc1 at offset 2 is not valid msgpack");
}

BOOST_AUTO_TEST_CASE(RefusesEveryTruncationOfEveryMessageType) {
  for (const Message& message : SampleMessages()) {
    const std::string frame = Encode(message);
    for (size_t length = 0; length < frame.size(); ++length) {
      BOOST_TEST_INFO(MessageTypeName(TypeOf(message)) << " cut to " << length << " bytes");
      ExpectRefused(frame.substr(0, length), ErrorCode::kMalformed);
    }
  }
}

BOOST_AUTO_TEST_CASE(RefusesTrailingBytesAfterTheMessage) {
  const std::string message =
      ExpectRefused(Encode(SampleHeartbeat()) + std::string("\x00", 1), ErrorCode::kMalformed);
  BOOST_TEST(message.find("1 bytes after the end of the message") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(RefusesLengthThatPromisesMoreThanTheFrameHolds) {
  // An array header announcing 4 billion elements: refused without allocating for them.
  const std::string message =
      ExpectRefused(std::string("\xdd\xff\xff\xff\xf0\x00", 6), ErrorCode::kTooLarge);
  BOOST_TEST(message.find("over the limit") != std::string::npos);
  Limits unlimited;
  unlimited.max_array = std::numeric_limits<size_t>::max();
  const std::string unlimited_message =
      ExpectRefused(std::string("\xdd\xff\xff\xff\xf0\x00", 6), ErrorCode::kMalformed, unlimited);
  BOOST_TEST(unlimited_message ==
             "frame: array at byte 0 declares 4294967280 elements but only 1 bytes follow");
  ExpectRefused(std::string("\x93\x01\x01\xc6\x7f\xff\xff\xff", 8), ErrorCode::kMalformed);
}

BOOST_AUTO_TEST_CASE(RefusesStringOverLimit) {
  Limits limits;
  limits.max_string = 8;
  const std::string message =
      ExpectRefused(Encode(SampleHeartbeat()), ErrorCode::kTooLarge, limits);  // "coordinator-a"
  BOOST_TEST(message.find("string") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(RefusesArrayOverLimit) {
  Limits limits;
  limits.max_array = 2;
  ExpectRefused(Encode(SampleDriftSummary()), ErrorCode::kTooLarge, limits);  // 3 rule counts
}

BOOST_AUTO_TEST_CASE(RefusesNestingDeeperThanLimit) {
  Limits limits;
  limits.max_depth = 3;  // envelope, body, features; the [count, mean, m2] triples are depth 4
  ExpectRefused(Encode(SampleDriftSummary()), ErrorCode::kTooLarge, limits);
  std::string deep(100, '\x91');  // 100 nested one-element arrays
  deep += '\x00';
  const std::string message = ExpectRefused(deep, ErrorCode::kTooLarge);
  BOOST_TEST(message.find("nests deeper than 8") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(RefusesEnvelopeThatIsNotAThreeElementArray) {
  BOOST_TEST(ExpectRefused(PackValue(std::map<std::string, int>{{"v", 1}}),
                           ErrorCode::kMalformed) ==
             "envelope: expected an array [protocol_version, type, body], got map");
  ExpectRefused(PackValue(std::vector<int>{}), ErrorCode::kMalformed);
  BOOST_TEST(ExpectRefused(PackValue(std::make_tuple(1, 8)), ErrorCode::kMalformed) ==
             "envelope: expected an array [protocol_version, type, body], got 2 elements");
  ExpectRefused(PackValue(std::make_tuple("1", 8, std::map<std::string, int>{})),
                ErrorCode::kMalformed);
  ExpectRefused(PackValue(std::make_tuple(1, -8, std::map<std::string, int>{})),
                ErrorCode::kMalformed);
}

BOOST_AUTO_TEST_CASE(RefusesOtherProtocolVersionsNamingBoth) {
  FrameEdit edit(SampleHeartbeat());
  edit.Version(7);
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kUnsupportedVersion) ==
             "envelope: protocol version 7 not supported (this peer speaks 1..2)");
  ExpectRefused(PackValue(std::make_tuple(0)), ErrorCode::kUnsupportedVersion);
  ExpectRefused(PackValue(std::make_tuple(3, 1, 2, 3)), ErrorCode::kUnsupportedVersion);
}

BOOST_AUTO_TEST_CASE(RefusesUnknownMessageTypes) {
  for (uint64_t type : {uint64_t{0}, uint64_t{16}, uint64_t{255}, uint64_t{1} << 40}) {
    FrameEdit edit(SampleHeartbeat());
    edit.Type(type);
    const std::string message = ExpectRefused(edit.Frame(), ErrorCode::kUnknownType);
    BOOST_TEST(message == "envelope: message type " + std::to_string(type) +
                              " is not known (this peer knows 1..15)");
  }
}

BOOST_AUTO_TEST_CASE(RefusesBodyThatIsNotAMap) {
  BOOST_TEST(ExpectRefused(PackValue(std::make_tuple(1, 8, std::vector<int>{1})),
                           ErrorCode::kMalformed) ==
             "heartbeat: body is a array, expected a map of fields");
}

BOOST_AUTO_TEST_CASE(RefusesDuplicateFields) {
  std::string frame = Encode(SnapshotRequest{"a"});
  // [1, 11, {"subscriber_id": "a"}] -> same field twice.
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(3).pack(1).pack(11).pack_map(2);
  packer.pack(std::string("subscriber_id")).pack(std::string("a"));
  packer.pack(std::string("subscriber_id")).pack(std::string("b"));
  BOOST_TEST(ExpectRefused(std::string(buffer.data(), buffer.size()), ErrorCode::kMalformed) ==
             "snapshot_request: duplicate field 'subscriber_id'");
}
