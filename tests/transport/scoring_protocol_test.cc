// The scoring server's protocol version 2, schema, named columns, label acks and the refusal of
// non-finite model outputs (PROTOCOL.md §4.2, §4.3, §4.13-4.16, §8).
#define BOOST_TEST_MODULE transport_scoring_protocol
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <vector>

#include "transport/scoring_client.h"
#include "transport/scoring_server.h"
#include "transport_test_util.h"

using reflex::Result;
using reflex::transport::LabelOutcome;
using reflex::transport::ModelSchema;
using reflex::transport::ScoringServer;
using reflex::transport::ScoringServerOptions;
using reflex::transport::testing::FakeScorer;
using reflex::transport::testing::RawPeer;
using reflex::transport::testing::ReferenceClassProbabilities;
using reflex::transport::testing::ReferenceProbability;
using reflex::wire::ErrorCode;
namespace wire = reflex::wire;

namespace {

std::unique_ptr<ScoringServer> StartServer(std::shared_ptr<reflex::transport::Scorer> scorer,
                                           ScoringServerOptions options = {}) {
  auto server = ScoringServer::Start(scorer, options);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server.value());
}

// The next reply decoded (any message type), with its envelope version.
wire::Decoded ReceiveAny(RawPeer& peer) {
  zmq::pollitem_t item{peer.socket().handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::seconds(5));
  BOOST_REQUIRE(item.revents & ZMQ_POLLIN);
  zmq::message_t message;
  BOOST_REQUIRE(peer.socket().recv(message, zmq::recv_flags::dontwait));
  wire::Decoded decoded = wire::Decode(message.data(), message.size());
  BOOST_REQUIRE_MESSAGE(decoded.ok(), decoded.error.message);
  return decoded;
}

template <typename T>
T ReceiveAs(RawPeer& peer, uint32_t expected_version) {
  wire::Decoded decoded = ReceiveAny(peer);
  BOOST_TEST(decoded.protocol_version == expected_version);
  auto* value = std::get_if<T>(&*decoded.message);
  BOOST_REQUIRE(value != nullptr);
  return *value;
}

wire::ScoreRequest Request(uint64_t id, uint32_t cols, std::vector<float> rows, std::vector<std::string> columns = {}) {
  wire::ScoreRequest request;
  request.request_id = id;
  request.cols = cols;
  request.rows = std::move(rows);
  request.columns = std::move(columns);
  return request;
}

// Writes NaN for every row: a model that overflows on extreme input.
class NanScorer : public reflex::transport::Scorer {
 public:
  uint32_t cols() const override { return 2; }
  Result<uint64_t> Score(const float*, size_t n_rows, float* out) override {
    for (size_t r = 0; r < n_rows; ++r) out[r] = r == 1 ? std::numeric_limits<float>::quiet_NaN() : 0.5f;
    return uint64_t{3};
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(KClassModelAnswersVersionTwoWithClassProbabilitiesAndPredictedClasses) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->set_classes(3);
  std::mutex mu;
  std::vector<uint32_t> sink_outputs;
  std::vector<float> sink_values;
  ScoringServerOptions options;
  options.scored_sink = [&](const wire::ScoreRequest&, const float* out, uint32_t k, uint64_t) {
    std::lock_guard<std::mutex> lock(mu);
    sink_outputs.push_back(k);
    sink_values.assign(out, out + 2 * k);
  };
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  const std::vector<float> rows = {1.0f, 0.5f, -2.0f, -1.0f};
  peer.SendFrame(wire::Encode(Request(5, 2, rows), wire::kProtocolVersion2));
  const auto reply = ReceiveAs<wire::ScoreReply>(peer, 2);
  BOOST_TEST(reply.error == ErrorCode::kOk);
  BOOST_TEST(reply.outputs_per_row == 3u);
  BOOST_TEST_REQUIRE(reply.probabilities.size() == 6u);
  for (size_t r = 0; r < 2; ++r) {
    float expected[3];
    ReferenceClassProbabilities(rows.data() + r * 2, 2, 3, expected);
    const float* got = reply.probabilities.data() + r * 3;
    BOOST_TEST(std::fabs(got[0] + got[1] + got[2] - 1.0f) < 1e-6f);
    for (int k = 0; k < 3; ++k) BOOST_TEST(got[k] == expected[k]);
  }
  BOOST_TEST(reply.classes == (std::vector<uint64_t>{2, 0}));
  std::lock_guard<std::mutex> lock(mu);
  BOOST_TEST(sink_outputs == std::vector<uint32_t>{3});
  BOOST_TEST(sink_values == reply.probabilities);
}

BOOST_AUTO_TEST_CASE(VersionOneRequestToKClassModelIsRefusedSayingToUseVersionTwo) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->set_classes(4);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(Request(6, 2, {1, 2}));
  const auto reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(reply.error == ErrorCode::kUnsupportedVersion);
  BOOST_TEST(reply.message.find("4 classes") != std::string::npos);
  BOOST_TEST(reply.message.find("protocol_version 2") != std::string::npos);
  BOOST_TEST(scorer->calls() == 0u);
}

BOOST_AUTO_TEST_CASE(BinaryModelAnswersVersionOneUnchangedAndVersionTwoWithClasses) {
  auto scorer = std::make_shared<FakeScorer>(2);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(Request(7, 2, {0.5f, -1.0f, 2.0f, 0.25f}));
  const auto v1 = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(v1.error == ErrorCode::kOk);
  BOOST_TEST(v1.classes.empty());  // a version 1 reply has no classes field
  BOOST_TEST(wire::Encode(v1) == wire::Encode(wire::ScoreReply{7, ErrorCode::kOk, "", v1.probabilities, 7}));
  peer.SendFrame(wire::Encode(Request(8, 2, {0.5f, -1.0f, -2.0f, 0.25f}), 2));
  const auto v2 = ReceiveAs<wire::ScoreReply>(peer, 2);
  BOOST_TEST(v2.outputs_per_row == 1u);
  BOOST_TEST_REQUIRE(v2.probabilities.size() == 2u);
  BOOST_TEST(v2.classes == (std::vector<uint64_t>{0, 0}));
  const float row0[] = {0.5f, -1.0f};
  BOOST_TEST(v2.probabilities[0] == ReferenceProbability(row0, 2));
}

BOOST_AUTO_TEST_CASE(SchemaRequestNamesFeaturesClassesVersionEpochAndProtocolVersions) {
  auto scorer = std::make_shared<FakeScorer>(3);
  scorer->set_schema(ModelSchema{{"temp_c", "pressure", "flow"}, {"0", "1"}});
  scorer->set_version(12);
  scorer->set_epoch(4);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(wire::SchemaRequest{77});
  const auto schema = ReceiveAs<wire::SchemaReply>(peer, 1);
  BOOST_TEST(schema.request_id == 77u);
  BOOST_TEST(schema.error == ErrorCode::kOk);
  BOOST_TEST(schema.feature_names == (std::vector<std::string>{"temp_c", "pressure", "flow"}));
  BOOST_TEST(schema.class_names == (std::vector<std::string>{"0", "1"}));
  BOOST_TEST(schema.cols == 3u);
  BOOST_TEST(schema.outputs_per_row == 1u);
  BOOST_TEST(schema.ready);
  BOOST_TEST(schema.version == 12u);
  BOOST_TEST(schema.epoch == 4u);
  BOOST_TEST(schema.protocol_versions == (std::vector<uint64_t>{1, 2}));
  BOOST_TEST(server->stats().schema_requests == 1u);
}

BOOST_AUTO_TEST_CASE(NamedColumnsInAnotherOrderAreReorderedToTheModels) {
  auto scorer = std::make_shared<FakeScorer>(3);
  scorer->set_schema(ModelSchema{{"a", "b", "c"}, {}});
  std::vector<float> seen;
  ScoringServerOptions options;
  options.scored_sink = [&](const wire::ScoreRequest& request, const float*, uint32_t, uint64_t) {
    seen = request.rows;
  };
  options.workers = 1;
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  // Columns c, a, b: the model sees a, b, c.
  peer.Send(Request(9, 3, {3.0f, 1.0f, 2.0f}, {"c", "a", "b"}));
  const auto reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST_REQUIRE(reply.error == ErrorCode::kOk);
  BOOST_TEST(seen == (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

BOOST_AUTO_TEST_CASE(UnknownMissingOrRepeatedColumnNamesAreRefusedNamingThem) {
  auto scorer = std::make_shared<FakeScorer>(3);
  scorer->set_schema(ModelSchema{{"temp_c", "pressure", "flow"}, {}});
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(Request(10, 3, {1, 2, 3}, {"temp_f", "pressure", "flow"}));
  auto reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(reply.error == ErrorCode::kColumnMismatch);
  BOOST_TEST(reply.message.find("unknown 'temp_f'") != std::string::npos);
  BOOST_TEST(reply.message.find("missing 'temp_c'") != std::string::npos);
  // Two names for a three-column model: refused by name, not by width.
  peer.Send(Request(11, 2, {1, 2}, {"pressure", "flow"}));
  reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(reply.error == ErrorCode::kColumnMismatch);
  BOOST_TEST(reply.message.find("missing 'temp_c'") != std::string::npos);
  peer.Send(Request(12, 3, {1, 2, 3}, {"flow", "flow", "pressure"}));
  reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(reply.error == ErrorCode::kColumnMismatch);
  BOOST_TEST(reply.message.find("repeated 'flow'") != std::string::npos);
  BOOST_TEST(scorer->calls() == 0u);
}

BOOST_AUTO_TEST_CASE(NonFiniteModelOutputIsRefusedNamingTheRowAndKeptFromTheSink) {
  bool sink_called = false;
  ScoringServerOptions options;
  options.scored_sink = [&](const wire::ScoreRequest&, const float*, uint32_t, uint64_t) { sink_called = true; };
  auto server = StartServer(std::make_shared<NanScorer>(), options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  const float big = std::numeric_limits<float>::max();
  peer.Send(Request(13, 2, {0, 0, big, big}));
  const auto reply = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(reply.error == ErrorCode::kNonFiniteScore);
  BOOST_TEST(reply.message.find("rows[1]") != std::string::npos);
  BOOST_TEST(reply.probabilities.empty());
  BOOST_TEST(!sink_called);
}

BOOST_AUTO_TEST_CASE(ExtremeRowsThroughASoftmaxAreRefusedNotAnsweredNaN) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->set_classes(3);
  auto server = StartServer(scorer);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  const float big = std::numeric_limits<float>::max();
  peer.SendFrame(wire::Encode(Request(14, 2, {big, big}), 2));
  const auto reply = ReceiveAs<wire::ScoreReply>(peer, 2);
  BOOST_TEST(reply.error == ErrorCode::kNonFiniteScore);
  BOOST_TEST(reply.message.find("rows[0]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(LabelFeedbackAckSaysWhyALabelWasDropped) {
  auto scorer = std::make_shared<FakeScorer>(2);
  ScoringServerOptions options;
  options.label_sink = [](const wire::LabelFeedback& label) {
    return label.request_id == 1 ? LabelOutcome::kJoined : LabelOutcome::kDuplicate;
  };
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(wire::LabelFeedback{1, 0, 1});
  auto ack = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(ack.error == ErrorCode::kOk);
  BOOST_TEST(ack.version == 0u);
  peer.Send(wire::LabelFeedback{2, 3, 0});
  ack = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(ack.request_id == 2u);
  BOOST_TEST(ack.error == ErrorCode::kLabelDropped);
  BOOST_TEST(ack.message == "label_feedback: request 2 row 3 label 0 dropped: duplicate");
  BOOST_TEST(server->stats().labels_dropped == 1u);
}

BOOST_AUTO_TEST_CASE(LabelBatchAckCountsJoinedForwardedAndDroppedByReason) {
  auto scorer = std::make_shared<FakeScorer>(2);
  ScoringServerOptions options;
  options.label_sink = [](const wire::LabelFeedback& label) {
    switch (label.request_id) {
      case 1: return LabelOutcome::kJoined;
      case 2: return LabelOutcome::kForwarded;
      case 3: return LabelOutcome::kRowOutOfRange;
      case 4: return LabelOutcome::kTooLate;
      default: return LabelOutcome::kUnknownRequest;
    }
  };
  auto server = StartServer(scorer, options);
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  const uint64_t big_id = (uint64_t{1} << 62) + 1;  // not representable as a double
  peer.Send(wire::LabelBatch{90, {1, 1, 2, 3, 4, big_id, 1}, {0, 1, 0, 9, 0, 0, 2}, {1, 0, 1, 1, 0, 1, 2}});
  const auto ack = ReceiveAs<wire::LabelAck>(peer, 1);
  BOOST_TEST(ack.request_id == 90u);
  BOOST_TEST(ack.error == ErrorCode::kOk);
  BOOST_TEST(ack.received == 7u);
  BOOST_TEST(ack.joined == 2u);
  BOOST_TEST(ack.forwarded == 1u);
  BOOST_TEST(ack.dropped == 4u);
  BOOST_TEST(ack.dropped_row_out_of_range == 1u);
  BOOST_TEST(ack.dropped_too_late == 1u);
  BOOST_TEST(ack.dropped_unknown_request == 1u);
  BOOST_TEST(ack.dropped_invalid == 1u);  // label 2 for a binary model
  BOOST_TEST(ack.outcomes == (std::vector<uint64_t>{0, 0, 1, 3, 5, 2, 6}));
  BOOST_TEST(ack.message.find("4 of 7 labels dropped") != std::string::npos);
  BOOST_TEST(server->stats().labels == 7u);
}

BOOST_AUTO_TEST_CASE(LabelsWithoutASinkAreAcknowledgedAsDropped) {
  auto server = StartServer(std::make_shared<FakeScorer>(2));
  zmq::context_t context;
  RawPeer peer(context, server->endpoint());
  peer.Send(wire::LabelFeedback{3, 0, 1});
  const auto ack = ReceiveAs<wire::ScoreReply>(peer, 1);
  BOOST_TEST(ack.error == ErrorCode::kLabelDropped);
  BOOST_TEST(ack.message.find("unknown request") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ScoringClientAsksForTheSchemaSendsLabelBatchesAndScoresKClassInVersionTwo) {
  auto scorer = std::make_shared<FakeScorer>(2);
  scorer->set_classes(3);
  scorer->set_schema(ModelSchema{{"x", "y"}, {"a", "b", "c"}});
  ScoringServerOptions options;
  options.label_sink = [](const wire::LabelFeedback& label) {
    return label.row == 0 ? LabelOutcome::kJoined : LabelOutcome::kDuplicate;
  };
  auto server = StartServer(scorer, options);
  reflex::transport::ScoringClientOptions client_options;
  client_options.endpoints = {server->endpoint()};
  client_options.protocol_version = wire::kProtocolVersion2;
  auto client = reflex::transport::ScoringClient::Create(client_options);
  BOOST_REQUIRE(client.ok());
  auto schema = (*client)->Schema(std::chrono::seconds(5));
  BOOST_REQUIRE_MESSAGE(schema.ok(), schema.status().ToString());
  BOOST_TEST(schema->class_names == (std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(schema->protocol_versions == (std::vector<uint64_t>{2}));
  const float rows[] = {1.0f, 1.0f};
  auto scored = (*client)->Score(rows, 1, 2, std::chrono::seconds(5));
  BOOST_REQUIRE(scored.ok());
  BOOST_TEST(scored->error == ErrorCode::kOk);
  BOOST_TEST(scored->probabilities.size() == 3u);
  BOOST_TEST(scored->classes == std::vector<uint64_t>{2});
  auto ack = (*client)->SendLabels(wire::LabelBatch{0, {scored->request_id, scored->request_id}, {0, 1}, {2, 1}},
                                   std::chrono::seconds(5));
  BOOST_REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
  BOOST_TEST(ack->joined == 1u);
  BOOST_TEST(ack->dropped_duplicate == 1u);
  // Class id 2 is a valid label of a 3-class model (sent in a version 2 envelope).
  BOOST_TEST((*client)->SendLabel(scored->request_id, 0, 2, std::chrono::seconds(5)).ok());
}
