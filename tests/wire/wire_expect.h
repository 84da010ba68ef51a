// Field-by-field comparison of wire messages for Boost.Test suites (include after
// <boost/test/unit_test.hpp>). Floats are compared bit for bit, so -0.0, NaN payloads and
// rounding all have to survive a round trip exactly.
#pragma once

#include <cstring>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "wire/codec.h"
#include "wire/messages.h"

namespace reflex::wire {
// So BOOST_TEST can print codes and types: "WrongFeatureCount(6)".
inline std::ostream& operator<<(std::ostream& out, ErrorCode code) {
  return out << ErrorCodeName(code) << "(" << static_cast<int>(code) << ")";
}
inline std::ostream& operator<<(std::ostream& out, MessageType type) {
  return out << MessageTypeName(type) << "(" << static_cast<int>(type) << ")";
}
}  // namespace reflex::wire

namespace reflex::wire::testing {

inline bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline void ExpectSameAdapter(const AdapterVersion& a, const AdapterVersion& b) {
  BOOST_TEST(a.version == b.version);
  BOOST_TEST(a.parent == b.parent);
  BOOST_TEST(a.epoch == b.epoch);
  BOOST_TEST(a.dims.width == b.dims.width);
  BOOST_TEST(a.dims.hidden == b.dims.hidden);
  BOOST_TEST(SameBits(a.weights, b.weights));
  BOOST_TEST(a.checksum == b.checksum);
}

inline void ExpectSameFields(const ScoreRequest& a, const ScoreRequest& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(a.cols == b.cols);
  BOOST_TEST(SameBits(a.rows, b.rows));
  BOOST_TEST(a.deadline_unix_us.has_value() == b.deadline_unix_us.has_value());
  if (a.deadline_unix_us && b.deadline_unix_us) {
    BOOST_TEST(*a.deadline_unix_us == *b.deadline_unix_us);
  }
  BOOST_TEST(a.columns == b.columns);
}

inline void ExpectSameFields(const ScoreReply& a, const ScoreReply& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(static_cast<int>(a.error) == static_cast<int>(b.error));
  BOOST_TEST(a.message == b.message);
  BOOST_TEST(SameBits(a.probabilities, b.probabilities));
  BOOST_TEST(a.version == b.version);
  BOOST_TEST(a.outputs_per_row == b.outputs_per_row);
  BOOST_TEST(a.classes == b.classes);
}

inline void ExpectSameFields(const LabelFeedback& a, const LabelFeedback& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(a.row == b.row);
  BOOST_TEST(a.label == b.label);
}

inline void ExpectSameFields(const DriftSummary& a, const DriftSummary& b) {
  BOOST_TEST(a.replica_id == b.replica_id);
  BOOST_TEST(a.window_start_unix_ms == b.window_start_unix_ms);
  BOOST_TEST(a.window_end_unix_ms == b.window_end_unix_ms);
  BOOST_TEST(a.rows_scored == b.rows_scored);
  BOOST_TEST(a.served_version == b.served_version);
  BOOST_TEST_REQUIRE(a.features.size() == b.features.size());
  for (size_t i = 0; i < a.features.size(); ++i) {
    BOOST_TEST(a.features[i].count == b.features[i].count);
    BOOST_TEST(a.features[i].mean == b.features[i].mean);
    BOOST_TEST(a.features[i].m2 == b.features[i].m2);
  }
  BOOST_TEST(a.rule_fired == b.rule_fired);
  BOOST_TEST(a.rule_conflicts == b.rule_conflicts);
  BOOST_TEST(a.cols == b.cols);
  BOOST_TEST(SameBits(a.sample_rows, b.sample_rows));
  BOOST_TEST(a.sample_labels == b.sample_labels);
  BOOST_TEST(a.positives == b.positives);
  BOOST_TEST(a.label_tp == b.label_tp);
  BOOST_TEST(a.label_fp == b.label_fp);
  BOOST_TEST(a.label_tn == b.label_tn);
  BOOST_TEST(a.label_fn == b.label_fn);
  BOOST_TEST(a.label_cells == b.label_cells);
  BOOST_TEST(a.class_counts == b.class_counts);
  BOOST_TEST(a.anchor_class_counts == b.anchor_class_counts);
}

inline void ExpectSameFields(const HealJob& a, const HealJob& b) {
  BOOST_TEST(a.job_id == b.job_id);
  ExpectSameAdapter(a.base, b.base);
  BOOST_TEST(a.cols == b.cols);
  BOOST_TEST(SameBits(a.rows, b.rows));
  BOOST_TEST(a.labels == b.labels);
  BOOST_TEST((a.policy == b.policy));
  BOOST_TEST(a.new_version == b.new_version);
  BOOST_TEST(a.epoch == b.epoch);
}

inline void ExpectSameFields(const HealResult& a, const HealResult& b) {
  BOOST_TEST(a.job_id == b.job_id);
  BOOST_TEST(a.healer_id == b.healer_id);
  BOOST_TEST(a.accepted == b.accepted);
  BOOST_TEST(a.reason == b.reason);
  BOOST_TEST_REQUIRE(a.candidate.has_value() == b.candidate.has_value());
  if (a.candidate) ExpectSameAdapter(*a.candidate, *b.candidate);
  BOOST_TEST((a.metrics == b.metrics));
}

inline void ExpectSameFields(const AdapterUpdate& a, const AdapterUpdate& b) {
  BOOST_TEST(a.sequence == b.sequence);
  ExpectSameAdapter(a.adapter, b.adapter);
}

inline void ExpectSameFields(const Heartbeat& a, const Heartbeat& b) {
  BOOST_TEST(a.sender_id == b.sender_id);
  BOOST_TEST(a.epoch == b.epoch);
  BOOST_TEST(a.sequence == b.sequence);
  BOOST_TEST(a.latest_version == b.latest_version);
  BOOST_TEST(a.unix_ms == b.unix_ms);
}

inline void ExpectSameFields(const ControlRequest& a, const ControlRequest& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(a.command == b.command);
  BOOST_TEST(a.args == b.args);
}

inline void ExpectSameFields(const ControlReply& a, const ControlReply& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(static_cast<int>(a.error) == static_cast<int>(b.error));
  BOOST_TEST(a.message == b.message);
  BOOST_TEST(a.body_json == b.body_json);
}

inline void ExpectSameFields(const SnapshotRequest& a, const SnapshotRequest& b) {
  BOOST_TEST(a.subscriber_id == b.subscriber_id);
}

inline void ExpectSameFields(const SchemaRequest& a, const SchemaRequest& b) {
  BOOST_TEST(a.request_id == b.request_id);
}

inline void ExpectSameFields(const SchemaReply& a, const SchemaReply& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(static_cast<int>(a.error) == static_cast<int>(b.error));
  BOOST_TEST(a.message == b.message);
  BOOST_TEST(a.feature_names == b.feature_names);
  BOOST_TEST(a.class_names == b.class_names);
  BOOST_TEST(a.cols == b.cols);
  BOOST_TEST(a.outputs_per_row == b.outputs_per_row);
  BOOST_TEST(a.ready == b.ready);
  BOOST_TEST(a.version == b.version);
  BOOST_TEST(a.epoch == b.epoch);
  BOOST_TEST(a.protocol_versions == b.protocol_versions);
}

inline void ExpectSameFields(const LabelBatch& a, const LabelBatch& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(a.request_ids == b.request_ids);
  BOOST_TEST(a.rows == b.rows);
  BOOST_TEST(a.labels == b.labels);
}

inline void ExpectSameFields(const LabelAck& a, const LabelAck& b) {
  BOOST_TEST(a.request_id == b.request_id);
  BOOST_TEST(static_cast<int>(a.error) == static_cast<int>(b.error));
  BOOST_TEST(a.message == b.message);
  BOOST_TEST(a.received == b.received);
  BOOST_TEST(a.joined == b.joined);
  BOOST_TEST(a.forwarded == b.forwarded);
  BOOST_TEST(a.dropped == b.dropped);
  BOOST_TEST(a.dropped_unknown_request == b.dropped_unknown_request);
  BOOST_TEST(a.dropped_row_out_of_range == b.dropped_row_out_of_range);
  BOOST_TEST(a.dropped_duplicate == b.dropped_duplicate);
  BOOST_TEST(a.dropped_too_late == b.dropped_too_late);
  BOOST_TEST(a.dropped_invalid == b.dropped_invalid);
  BOOST_TEST(a.outcomes == b.outcomes);
}

inline void ExpectSameMessage(const Message& a, const Message& b) {
  BOOST_TEST_REQUIRE(a.index() == b.index());
  std::visit(
      [&](const auto& left) {
        using T = std::decay_t<decltype(left)>;
        ExpectSameFields(left, std::get<T>(b));
      },
      a);
}

// Decodes `frame` expecting a refusal with `code` and a message; returns the message.
inline std::string ExpectRefused(const std::string& frame, ErrorCode code,
                                 const Limits& limits = {}) {
  const Decoded decoded = Decode(frame, limits);
  BOOST_TEST(!decoded.ok());
  BOOST_TEST(!decoded.message.has_value());
  BOOST_TEST(decoded.error.code == code);
  BOOST_TEST(!decoded.error.message.empty());
  return decoded.error.message;
}

// Decodes `frame`, requiring success; returns the message.
inline Message DecodeOk(const std::string& frame, const Limits& limits = {}) {
  Decoded decoded = Decode(frame, limits);
  BOOST_TEST_INFO("decode error: " << decoded.error.message);
  BOOST_TEST_REQUIRE(decoded.ok());
  BOOST_TEST(decoded.error.code == ErrorCode::kOk);
  return *decoded.message;
}

}  // namespace reflex::wire::testing
