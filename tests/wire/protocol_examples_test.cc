// PROTOCOL.md's version 2, schema and label examples, read from the document itself: every hex
// block marked `<!-- example: NAME -->` must be byte for byte what the C++ encoder writes for the
// message this test builds under NAME, and must decode back to it. A marked block this test does
// not know, or a known example missing from the document, fails.
#define BOOST_TEST_MODULE wire_protocol_examples
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "frame_edit.h"
#include "wire/codec.h"
#include "wire_expect.h"

using namespace reflex::wire;
using reflex::wire::testing::FromHex;
using reflex::wire::testing::ToHex;
using reflex::wire::testing::ExpectRefused;

namespace {

struct Example {
  Message message;
  uint32_t protocol_version = kProtocolVersion;
};

std::map<std::string, Example> Expected() {
  std::map<std::string, Example> out;
  out["schema_request"] = {SchemaRequest{45}};
  SchemaReply schema;
  schema.request_id = 45;
  schema.feature_names = {"temp_c", "pressure"};
  schema.class_names = {"0", "1"};
  schema.cols = 2;
  schema.outputs_per_row = 1;
  schema.ready = true;
  schema.version = 3;
  schema.epoch = 1;
  schema.protocol_versions = {1, 2};
  out["schema_reply"] = {schema};
  ScoreRequest named;
  named.request_id = 8;
  named.cols = 2;
  named.rows = {-1.0f, 0.5f};
  named.columns = {"pressure", "temp_c"};
  out["score_request_named"] = {named};
  ScoreRequest v2;
  v2.request_id = 9;
  v2.cols = 2;
  v2.rows = {0.5f, -1.0f};
  out["score_request_v2"] = {v2, kProtocolVersion2};
  ScoreReply classes;
  classes.request_id = 9;
  classes.probabilities = {0.25f, 0.5f, 0.25f};
  classes.version = 3;
  classes.outputs_per_row = 3;
  classes.classes = {1};
  out["score_reply_v2"] = {classes, kProtocolVersion2};
  out["label_batch"] = {LabelBatch{10, {7, 7}, {0, 1}, {1, 0}}};
  LabelAck ack;
  ack.request_id = 10;
  ack.message = "label_batch: 1 of 2 labels dropped: duplicate 1";
  ack.received = 2;
  ack.joined = 1;
  ack.dropped = 1;
  ack.dropped_duplicate = 1;
  ack.outcomes = {0, 4};
  out["label_ack"] = {ack};
  ScoreReply dropped;
  dropped.request_id = 7;
  dropped.error = ErrorCode::kLabelDropped;
  dropped.message = "label_feedback: request 7 row 5 label 1 dropped: row out of range";
  out["label_dropped_ack"] = {dropped};
  DriftSummary k_class;
  k_class.replica_id = "r1";
  k_class.window_end_unix_ms = 1000;
  k_class.rows_scored = 4;
  k_class.served_version = 2;
  k_class.cols = 1;
  k_class.sample_rows = {0.5f, 1.5f};
  k_class.sample_labels = {-1, 2};
  k_class.label_cells = {0, 0, 0, 0, 0, 0, 1, 0};
  k_class.class_counts = {1, 2, 1};
  k_class.anchor_class_counts = {0, 0, 1};
  out["drift_summary_multiclass"] = {k_class};
  return out;
}

// NAME -> the hex text of the fenced block after each `<!-- example: NAME -->` line.
std::map<std::string, std::string> DocumentExamples() {
  std::ifstream in(std::string(REFLEX_SOURCE_DIR) + "/libs/wire/PROTOCOL.md");
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot read libs/wire/PROTOCOL.md");
  std::map<std::string, std::string> out;
  const std::string marker = "<!-- example: ";
  std::string line, name;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (!in_block && line.rfind(marker, 0) == 0) {
      name = line.substr(marker.size(), line.find(" -->") - marker.size());
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      if (in_block) name.clear();
      in_block = !in_block && !name.empty();
      continue;
    }
    if (in_block) out[name] += line + " ";
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(EveryMarkedExampleIsWhatTheEncoderWritesAndDecodesBack) {
  const auto expected = Expected();
  const auto document = DocumentExamples();
  for (const auto& [name, hex] : document) {
    BOOST_TEST_INFO("PROTOCOL.md example " << name);
    auto it = expected.find(name);
    BOOST_TEST_REQUIRE((it != expected.end()), "unknown example " << name);
    const std::string encoded = Encode(it->second.message, it->second.protocol_version);
    BOOST_TEST(ToHex(encoded) == ToHex(FromHex(hex)));
    const Decoded decoded = Decode(FromHex(hex));
    BOOST_TEST_REQUIRE(decoded.ok(), decoded.error.message);
    BOOST_TEST(decoded.protocol_version == it->second.protocol_version);
    reflex::wire::testing::ExpectSameMessage(it->second.message, *decoded.message);
  }
  for (const auto& [name, example] : expected) {
    BOOST_TEST_INFO("example " << name);
    BOOST_TEST(document.count(name) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(VersionOneScoreReplyBytesAreUnchangedByVersionTwo) {
  ScoreReply reply;
  reply.request_id = 7;
  reply.probabilities = {0.25f, 0.75f};
  reply.version = 3;
  reply.outputs_per_row = 1;
  reply.classes = {0, 1};  // not written in version 1
  BOOST_TEST(ToHex(Encode(reply)) ==
             "93 01 02 85 aa 72 65 71 75 65 73 74 5f 69 64 07 a5 65 72 72 6f 72 00 a7 6d 65 73 73 61 67 "
             "65 a0 ad 70 72 6f 62 61 62 69 6c 69 74 69 65 73 c4 08 00 00 80 3e 00 00 40 3f a7 76 65 72 "
             "73 69 6f 6e 03");
}

BOOST_AUTO_TEST_CASE(VersionTwoLabelFeedbackCarriesAnyClassIdVersionOneOnlyZeroOrOne) {
  const LabelFeedback label{7, 0, 5};
  const Decoded v2 = Decode(Encode(label, kProtocolVersion2));
  BOOST_TEST_REQUIRE(v2.ok(), v2.error.message);
  BOOST_TEST(std::get<LabelFeedback>(*v2.message).label == 5u);
  BOOST_TEST(ExpectRefused(Encode(label), ErrorCode::kInvalidArgument) == "label_feedback.label: 5 is not 0 or 1");
}

BOOST_AUTO_TEST_CASE(LabelBatchRefusesRaggedArraysRowsOverUint32AndLabelsOverUint8) {
  BOOST_TEST(ExpectRefused(Encode(LabelBatch{1, {1, 2}, {0}, {1, 1}}), ErrorCode::kInvalidArgument) ==
             "label_batch: request_ids, rows and labels must have one entry per label, got 2, 1 and 2");
  BOOST_TEST(ExpectRefused(Encode(LabelBatch{1, {1}, {uint64_t{1} << 32}, {1}}), ErrorCode::kInvalidArgument) ==
             "label_batch.rows[0]: 4294967296 is over 4294967295 (a row index is a uint32)");
  BOOST_TEST(ExpectRefused(Encode(LabelBatch{1, {1, 1}, {0, 1}, {1, 256}}), ErrorCode::kInvalidArgument) ==
             "label_batch.labels[1]: 256 is over 255 (a class id is a uint8)");
  Limits small;
  small.max_labels = 1;
  BOOST_TEST(ExpectRefused(Encode(LabelBatch{1, {1, 1}, {0, 1}, {1, 0}}), ErrorCode::kTooLarge, small) ==
             "label_batch.labels: 2 labels, over the limit 1");
}

BOOST_AUTO_TEST_CASE(NamedScoreRequestIsNotHeldToTheExpectedWidthTheServerComparesNames) {
  ScoreRequest request;
  request.request_id = 1;
  request.cols = 2;
  request.rows = {1, 2};
  Limits limits;
  limits.expected_cols = 3;
  ExpectRefused(Encode(request), ErrorCode::kWrongFeatureCount, limits);
  request.columns = {"a", "b"};
  const Decoded named = Decode(Encode(request), limits);
  BOOST_TEST_REQUIRE(named.ok(), named.error.message);
  BOOST_TEST(std::get<ScoreRequest>(*named.message).columns == (std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(VersionTwoScoreReplyRefusesProbabilitiesNotAWholeNumberOfRows) {
  ScoreReply reply;
  reply.probabilities = {0.5f, 0.5f};
  reply.outputs_per_row = 3;
  reply.classes = {0};
  BOOST_TEST(ExpectRefused(Encode(reply, kProtocolVersion2), ErrorCode::kInvalidArgument) ==
             "score_reply.probabilities: 2 values is not a whole number of rows of 3");
}
