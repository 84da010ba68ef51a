// Encode(): every message as the envelope [protocol_version, type, body] (PROTOCOL.md).
// Encoding does not validate: a message that breaks a rule (rows not a multiple of cols) is
// written as given and refused by the receiver's Decode.
#include <string>
#include <type_traits>
#include <variant>

#include "wire/codec.h"
#include "wire/field_writer.h"

namespace reflex::wire {
namespace {

void WriteAdapter(MapWriter& parent, const char* name, const AdapterVersion& adapter) {
  parent.Key(name);
  MapWriter w(&parent.packer(), &parent.sink(), 7);
  w.UInt("version", adapter.version);
  w.UInt("parent", adapter.parent);
  w.UInt("epoch", adapter.epoch);
  w.UInt("width", adapter.dims.width);
  w.UInt("hidden", adapter.dims.hidden);
  w.Float32Vector("weights", adapter.weights);
  w.UInt("checksum", adapter.checksum);
}

void WriteBody(Packer* pk, StringSink* sink, const ScoreRequest& m) {
  MapWriter w(pk, sink, 3 + (m.deadline_unix_us ? 1 : 0) + (m.columns.empty() ? 0 : 1));
  w.UInt("request_id", m.request_id);
  w.UInt("cols", m.cols);
  w.Float32Vector("rows", m.rows);
  if (m.deadline_unix_us) w.Int("deadline_unix_us", *m.deadline_unix_us);
  if (!m.columns.empty()) w.StringList("columns", m.columns);
}

// Version 1 writes the five fields it always had; version 2 adds outputs_per_row and classes.
void WriteScoreReply(Packer* pk, StringSink* sink, const ScoreReply& m, uint32_t protocol_version) {
  const bool v2 = protocol_version >= kProtocolVersion2;
  MapWriter w(pk, sink, v2 ? 7 : 5);
  w.UInt("request_id", m.request_id);
  w.UInt("error", static_cast<uint16_t>(m.error));
  w.String("message", m.message);
  w.Float32Vector("probabilities", m.probabilities);
  w.UInt("version", m.version);
  if (!v2) return;
  w.UInt("outputs_per_row", m.outputs_per_row);
  w.UInt64List("classes", m.classes);
}

void WriteBody(Packer* pk, StringSink* sink, const LabelBatch& m) {
  MapWriter w(pk, sink, 4);
  w.UInt("request_id", m.request_id);
  w.UInt64List("request_ids", m.request_ids);
  w.UInt64List("rows", m.rows);
  w.UInt64List("labels", m.labels);
}

void WriteBody(Packer* pk, StringSink* sink, const LabelAck& m) {
  MapWriter w(pk, sink, 13);
  w.UInt("request_id", m.request_id);
  w.UInt("error", static_cast<uint16_t>(m.error));
  w.String("message", m.message);
  w.UInt("received", m.received);
  w.UInt("joined", m.joined);
  w.UInt("forwarded", m.forwarded);
  w.UInt("dropped", m.dropped);
  w.UInt("dropped_unknown_request", m.dropped_unknown_request);
  w.UInt("dropped_row_out_of_range", m.dropped_row_out_of_range);
  w.UInt("dropped_duplicate", m.dropped_duplicate);
  w.UInt("dropped_too_late", m.dropped_too_late);
  w.UInt("dropped_invalid", m.dropped_invalid);
  w.UInt64List("outcomes", m.outcomes);
}

void WriteBody(Packer* pk, StringSink* sink, const SchemaRequest& m) {
  MapWriter w(pk, sink, 1);
  w.UInt("request_id", m.request_id);
}

void WriteBody(Packer* pk, StringSink* sink, const SchemaReply& m) {
  MapWriter w(pk, sink, 11);
  w.UInt("request_id", m.request_id);
  w.UInt("error", static_cast<uint16_t>(m.error));
  w.String("message", m.message);
  w.StringList("feature_names", m.feature_names);
  w.StringList("class_names", m.class_names);
  w.UInt("cols", m.cols);
  w.UInt("outputs_per_row", m.outputs_per_row);
  w.Bool("ready", m.ready);
  w.UInt("version", m.version);
  w.UInt("epoch", m.epoch);
  w.UInt64List("protocol_versions", m.protocol_versions);
}

void WriteBody(Packer* pk, StringSink* sink, const LabelFeedback& m) {
  MapWriter w(pk, sink, 3);
  w.UInt("request_id", m.request_id);
  w.UInt("row", m.row);
  w.UInt("label", m.label);
}

void WriteBody(Packer* pk, StringSink* sink, const DriftSummary& m) {
  MapWriter w(pk, sink, 16 + !m.label_cells.empty() + !m.sample_anchor_probs.empty() + (m.served_epoch != 0) +
                            (m.served_checksum != 0) + (m.highest_epoch != 0) + !m.class_counts.empty() +
                            !m.anchor_class_counts.empty());
  w.String("replica_id", m.replica_id);
  w.Int("window_start_unix_ms", m.window_start_unix_ms);
  w.Int("window_end_unix_ms", m.window_end_unix_ms);
  w.UInt("rows_scored", m.rows_scored);
  w.UInt("served_version", m.served_version);
  Packer& features = w.Key("features");
  features.pack_array(static_cast<uint32_t>(m.features.size()));
  for (const RunningStats& s : m.features) {
    features.pack_array(3);
    features.pack_uint64(s.count);
    PackFloat64(w.sink(), s.mean);
    PackFloat64(w.sink(), s.m2);
  }
  w.UInt64List("rule_fired", m.rule_fired);
  w.UInt64List("rule_conflicts", m.rule_conflicts);
  w.UInt("cols", m.cols);
  w.Float32Vector("sample_rows", m.sample_rows);
  w.Int8List("sample_labels", m.sample_labels);
  w.UInt("positives", m.positives);
  w.UInt("label_tp", m.label_tp);
  w.UInt("label_fp", m.label_fp);
  w.UInt("label_tn", m.label_tn);
  w.UInt("label_fn", m.label_fn);
  if (!m.label_cells.empty()) w.UInt64List("label_cells", m.label_cells);
  if (!m.sample_anchor_probs.empty()) w.Float32Vector("sample_anchor_probs", m.sample_anchor_probs);
  if (m.served_epoch != 0) w.UInt("served_epoch", m.served_epoch);
  if (m.served_checksum != 0) w.UInt("served_checksum", m.served_checksum);
  if (m.highest_epoch != 0) w.UInt("highest_epoch", m.highest_epoch);
  if (!m.class_counts.empty()) w.UInt64List("class_counts", m.class_counts);
  if (!m.anchor_class_counts.empty()) w.UInt64List("anchor_class_counts", m.anchor_class_counts);
}

void WriteBody(Packer* pk, StringSink* sink, const HealJob& m) {
  MapWriter w(pk, sink, 8);
  w.UInt("job_id", m.job_id);
  WriteAdapter(w, "base", m.base);
  w.UInt("cols", m.cols);
  w.Float32Vector("rows", m.rows);
  w.Int8List("labels", m.labels);
  w.StringMap("policy", m.policy);
  w.UInt("new_version", m.new_version);
  w.UInt("epoch", m.epoch);
}

void WriteBody(Packer* pk, StringSink* sink, const HealResult& m) {
  MapWriter w(pk, sink, m.candidate ? 6 : 5);
  w.UInt("job_id", m.job_id);
  w.String("healer_id", m.healer_id);
  w.Bool("accepted", m.accepted);
  w.String("reason", m.reason);
  if (m.candidate) WriteAdapter(w, "candidate", *m.candidate);
  w.NumberMap("metrics", m.metrics);
}

void WriteBody(Packer* pk, StringSink* sink, const AdapterUpdate& m) {
  MapWriter w(pk, sink, 2);
  w.UInt("sequence", m.sequence);
  WriteAdapter(w, "adapter", m.adapter);
}

void WriteBody(Packer* pk, StringSink* sink, const Heartbeat& m) {
  MapWriter w(pk, sink, 5);
  w.String("sender_id", m.sender_id);
  w.UInt("epoch", m.epoch);
  w.UInt("sequence", m.sequence);
  w.UInt("latest_version", m.latest_version);
  w.Int("unix_ms", m.unix_ms);
}

void WriteBody(Packer* pk, StringSink* sink, const ControlRequest& m) {
  MapWriter w(pk, sink, 3);
  w.UInt("request_id", m.request_id);
  w.String("command", m.command);
  w.StringList("args", m.args);
}

void WriteBody(Packer* pk, StringSink* sink, const ControlReply& m) {
  MapWriter w(pk, sink, 4);
  w.UInt("request_id", m.request_id);
  w.UInt("error", static_cast<uint16_t>(m.error));
  w.String("message", m.message);
  w.String("body_json", m.body_json);
}

void WriteBody(Packer* pk, StringSink* sink, const SnapshotRequest& m) {
  MapWriter w(pk, sink, 1);
  w.String("subscriber_id", m.subscriber_id);
}

template <typename T>
void WriteVersionedBody(Packer* pk, StringSink* sink, const T& m, uint32_t) {
  WriteBody(pk, sink, m);
}
void WriteVersionedBody(Packer* pk, StringSink* sink, const ScoreReply& m, uint32_t protocol_version) {
  WriteScoreReply(pk, sink, m, protocol_version);
}

// The largest float payload, so the output string is allocated once for big messages.
size_t PayloadHint(const Message& message) {
  return std::visit(
      [](const auto& m) -> size_t {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ScoreRequest> || std::is_same_v<T, HealJob>) {
          return m.rows.size() * 4;
        } else if constexpr (std::is_same_v<T, ScoreReply>) {
          return m.probabilities.size() * 4;
        } else if constexpr (std::is_same_v<T, DriftSummary>) {
          return m.sample_rows.size() * 4;
        } else if constexpr (std::is_same_v<T, AdapterUpdate>) {
          return m.adapter.weights.size() * 4;
        } else {
          return 0;
        }
      },
      message);
}

}  // namespace

std::string Encode(const Message& message, uint32_t protocol_version) {
  std::string out;
  out.reserve(128 + PayloadHint(message));
  StringSink sink(&out);
  Packer packer(sink);
  packer.pack_array(3);
  packer.pack_uint32(protocol_version);
  packer.pack_uint8(static_cast<uint8_t>(TypeOf(message)));
  std::visit([&](const auto& m) { WriteVersionedBody(&packer, &sink, m, protocol_version); }, message);
  return out;
}

}  // namespace reflex::wire
