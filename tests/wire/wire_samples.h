// Sample wire messages for the codec tests and the fuzz harness's seed corpus: every message type,
// every field set to a distinct value (so a swapped or dropped field shows), with edge values
// (uint64 max, negative times, empty and non-ASCII strings, optional fields both ways).
// Header-only; plain functions returning fresh values.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/adapter_version.h"
#include "wire/messages.h"

namespace reflex::wire::testing {

// A sealed adapter whose weights are i * 0.01 - 0.3 (finite, distinct).
inline AdapterVersion SampleAdapter(uint32_t width = 3, uint32_t hidden = 2,
                                    uint64_t version = 7) {
  AdapterVersion adapter;
  adapter.version = version;
  adapter.parent = version - 1;
  adapter.epoch = 3;
  adapter.dims = {width, hidden};
  adapter.weights.resize(AdapterWeightCount(adapter.dims));
  for (size_t i = 0; i < adapter.weights.size(); ++i) {
    adapter.weights[i] = static_cast<float>(i) * 0.01f - 0.3f;
  }
  adapter.Seal();
  return adapter;
}

inline ScoreRequest SampleScoreRequest(bool with_deadline = true) {
  ScoreRequest m;
  m.request_id = 42;
  m.cols = 3;
  m.rows = {0.5f, -1.25f, 3.0f, 1e-7f, -0.0f, 65504.0f};
  if (with_deadline) m.deadline_unix_us = 1700000000123456;
  return m;
}

inline ScoreReply SampleScoreReply() {
  ScoreReply m;
  m.request_id = std::numeric_limits<uint64_t>::max();
  m.probabilities = {0.125f, 0.875f};
  m.version = 9;
  return m;
}

inline ScoreReply SampleErrorReply() {
  ScoreReply m;
  m.request_id = 43;
  m.error = ErrorCode::kWrongFeatureCount;
  m.message = "score_request.rows: row 3 has 9 values, expected 10";
  m.version = 9;
  return m;
}

inline LabelFeedback SampleLabelFeedback() { return {44, 17, 1}; }

inline DriftSummary SampleDriftSummary() {
  DriftSummary m;
  m.replica_id = "replica-2 (rack ä)";
  m.window_start_unix_ms = -5;
  m.window_end_unix_ms = 1700000000999;
  m.rows_scored = 12345;
  m.served_version = 8;
  m.features = {{10, 0.5, 2.25}, {10, -1.5, 0.0}};
  m.rule_fired = {3, 0, std::numeric_limits<uint64_t>::max()};
  m.rule_conflicts = {1, 0, 2};
  m.cols = 2;
  m.sample_rows = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  m.sample_labels = {-1, 0, 1};
  m.positives = 4000;
  m.label_tp = 1;
  m.label_fp = 2;
  m.label_tn = 3;
  m.label_fn = 0;
  return m;
}

inline HealJob SampleHealJob() {
  HealJob m;
  m.job_id = 77;
  m.base = SampleAdapter(4, 3, 5);
  m.cols = 2;
  m.rows = {0.1f, 0.2f, 0.3f, 0.4f};
  m.labels = {1, -1};
  m.policy = {{"lr", "0.003"}, {"steps", "5"}, {"", "empty key"}};
  m.new_version = 6;
  m.epoch = 4;
  return m;
}

inline HealResult SampleHealResult(bool accepted = true) {
  HealResult m;
  m.job_id = 77;
  m.healer_id = "healer-gpu-0";
  m.accepted = accepted;
  m.reason = accepted ? "" : "positive rate 0.61 above bound 0.30";
  if (accepted) m.candidate = SampleAdapter(4, 3, 6);
  m.metrics = {{"f1", 0.754}, {"loss", 1.5e-3}, {"zero", 0.0}};
  return m;
}

inline AdapterUpdate SampleAdapterUpdate() {
  AdapterUpdate m;
  m.sequence = 1001;
  m.adapter = SampleAdapter(5, 4, 12);
  return m;
}

inline Heartbeat SampleHeartbeat() { return {"coordinator-a", 4, 1001, 12, 1700000000777}; }

inline ControlRequest SampleControlRequest() { return {45, "policy-set", {"lr", "0.01", ""}}; }

inline ControlReply SampleControlReply() {
  return {45, ErrorCode::kInvalidArgument, "unknown policy key 'lrr'", "{\"ok\":false}"};
}

inline SnapshotRequest SampleSnapshotRequest() { return {"replica-2"}; }

inline SchemaRequest SampleSchemaRequest() { return {45}; }

inline SchemaReply SampleSchemaReply() {
  SchemaReply m;
  m.request_id = 46;
  m.feature_names = {"temp_c", "pressure", "caf\xc3\xa9"};
  m.class_names = {"ok", "leak", "seal"};
  m.cols = 3;
  m.outputs_per_row = 3;
  m.ready = true;
  m.version = 12;
  m.epoch = 4;
  m.protocol_versions = {2};
  return m;
}

inline LabelBatch SampleLabelBatch() {
  LabelBatch m;
  m.request_id = 47;
  m.request_ids = {std::numeric_limits<uint64_t>::max() >> 2, 9, 9};
  m.rows = {0, 1, 4294967295u};
  m.labels = {1, 0, 2};
  return m;
}

inline LabelAck SampleLabelAck() {
  LabelAck m;
  m.request_id = 47;
  m.message = "label_batch: 2 of 3 labels dropped: unknown request 1, row out of range 1";
  m.received = 3;
  m.joined = 1;
  m.dropped = 2;
  m.dropped_unknown_request = 1;
  m.dropped_row_out_of_range = 1;
  m.outcomes = {0, 2, 3};
  return m;
}

// A score request that names its columns.
inline ScoreRequest SampleNamedScoreRequest() {
  ScoreRequest m = SampleScoreRequest(false);
  m.columns = {"b", "a", "c"};
  return m;
}

// At least one message of every type, in MessageType order, then variants. Every one
// round-trips through a version 1 envelope (a version 2 score reply: SampleClassReply).
inline std::vector<Message> SampleMessages() {
  return {SampleScoreRequest(),   SampleScoreReply(),         SampleLabelFeedback(),
          SampleDriftSummary(),   SampleHealJob(),            SampleHealResult(),
          SampleAdapterUpdate(),  SampleHeartbeat(),          SampleControlRequest(),
          SampleControlReply(),   SampleSnapshotRequest(),    SampleSchemaRequest(),
          SampleSchemaReply(),    SampleLabelBatch(),         SampleLabelAck(),
          SampleScoreRequest(false), SampleErrorReply(),      SampleHealResult(false),
          Message(ScoreRequest{}), SampleNamedScoreRequest()};
}

// A version 2 reply of a 3-class model: two rows of three probabilities and their classes.
inline ScoreReply SampleClassReply() {
  ScoreReply m;
  m.request_id = 48;
  m.probabilities = {0.125f, 0.75f, 0.125f, 0.5f, 0.25f, 0.25f};
  m.version = 9;
  m.outputs_per_row = 3;
  m.classes = {1, 0};
  return m;
}

}  // namespace reflex::wire::testing
