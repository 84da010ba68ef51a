// Decoders of the cluster-internal messages: drift summaries, heal jobs and results, the weight
// bus (adapter updates, heartbeats) and the adapter record they share.
#include <limits>
#include <string>
#include <vector>

#include "wire/message_decoders.h"

namespace reflex::wire {
namespace {

// features: [[count, mean, m2], ...], one triple per feature column.
void DecodeFeatureStats(FieldReader& body, std::vector<RunningStats>* out) {
  DecodeContext& ctx = body.context();
  const msgpack::object* value = body.Require("features");
  if (value == nullptr) return;
  const std::string where = body.PathOf("features");
  if (value->type != msgpack::type::ARRAY) {
    ctx.Fail(ErrorCode::kWrongType, where,
             std::string("expected an array of [count, mean, m2], got ") +
                 MsgpackTypeName(*value));
    return;
  }
  const msgpack::object_array& array = value->via.array;
  std::vector<RunningStats> stats(array.size);
  for (size_t i = 0; i < array.size; ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const msgpack::object& triple = array.ptr[i];
    if (triple.type != msgpack::type::ARRAY || triple.via.array.size != 3) {
      ctx.Fail(ErrorCode::kWrongType, at,
               std::string("expected [count, mean, m2], got ") + MsgpackTypeName(triple) +
                   (triple.type == msgpack::type::ARRAY
                        ? " of " + std::to_string(triple.via.array.size) + " elements"
                        : ""));
      return;
    }
    const msgpack::object* parts = triple.via.array.ptr;
    RunningStats& s = stats[i];
    if (!ReadUnsigned(ctx, parts[0], at + ".count", std::numeric_limits<uint64_t>::max(),
                      "uint64", &s.count) ||
        !ReadNumber(ctx, parts[1], at + ".mean", &s.mean) ||
        !ReadNumber(ctx, parts[2], at + ".m2", &s.m2) ||
        !CheckFinite(ctx, s.mean, at + ".mean") || !CheckFinite(ctx, s.m2, at + ".m2")) {
      return;
    }
    if (s.m2 < 0) {
      ctx.Fail(ErrorCode::kInvalidArgument, at + ".m2",
               std::to_string(s.m2) + " is negative (a sum of squares)");
      return;
    }
  }
  *out = std::move(stats);
}

// `labels` must be empty or hold one entry per row.
void CheckLabelCount(FieldReader& body, const char* labels_field, size_t labels, size_t rows) {
  if (body.ok() && labels != 0 && labels != rows) {
    body.context().Fail(ErrorCode::kInvalidArgument, body.PathOf(labels_field),
                        std::to_string(labels) + " labels for " + std::to_string(rows) +
                            " rows (expected none or one per row)");
  }
}

}  // namespace

void DecodeAdapterVersion(FieldReader& record, AdapterVersion* out) {
  DecodeContext& ctx = record.context();
  record.UInt64("version", &out->version);
  record.UInt64("parent", &out->parent);
  record.UInt64("epoch", &out->epoch);
  record.UInt32("width", &out->dims.width);
  record.UInt32("hidden", &out->dims.hidden);
  record.Float32Vector("weights", &out->weights);
  record.UInt64("checksum", &out->checksum);
  if (!record.ok()) return;
  // Bound the dims before AdapterWeightCount multiplies them (it would overflow size_t).
  const uint64_t max_array = record.limits().max_array;
  const uint64_t width = out->dims.width;
  const uint64_t hidden = out->dims.hidden;
  if (width > max_array || hidden > max_array || width * hidden > max_array) {
    ctx.Fail(ErrorCode::kTooLarge, record.path(),
             "width " + std::to_string(width) + " x hidden " + std::to_string(hidden) +
                 " needs more weights than the limit " + std::to_string(max_array));
    return;
  }
  const size_t expected = AdapterWeightCount(out->dims);
  if (out->weights.size() != expected) {
    ctx.Fail(ErrorCode::kInvalidArgument, record.PathOf("weights"),
             std::to_string(out->weights.size()) + " weights, but width " +
                 std::to_string(width) + " hidden " + std::to_string(hidden) + " needs " +
                 std::to_string(expected));
    return;
  }
  CheckFinite(ctx, out->weights, record.PathOf("weights"));
}

void DecodeDriftSummary(FieldReader& body, DriftSummary* out) {
  body.String("replica_id", &out->replica_id);
  body.Int64("window_start_unix_ms", &out->window_start_unix_ms);
  body.Int64("window_end_unix_ms", &out->window_end_unix_ms);
  body.UInt64("rows_scored", &out->rows_scored);
  body.UInt64("served_version", &out->served_version);
  DecodeFeatureStats(body, &out->features);
  body.UInt64List("rule_fired", &out->rule_fired);
  body.UInt64List("rule_conflicts", &out->rule_conflicts);
  body.UInt32("cols", &out->cols);
  body.Float32Vector("sample_rows", &out->sample_rows);
  body.Int8List("sample_labels", -1, 127, &out->sample_labels);  // K-class: class ids
  // Optional counters (absent in older senders: 0).
  for (auto [name, field] : {std::pair{"positives", &out->positives}, {"label_tp", &out->label_tp},
                             {"label_fp", &out->label_fp}, {"label_tn", &out->label_tn},
                             {"label_fn", &out->label_fn}, {"served_epoch", &out->served_epoch},
                             {"served_checksum", &out->served_checksum}, {"highest_epoch", &out->highest_epoch}}) {
    if (body.Find(name)) body.UInt64(name, field);
  }
  if (body.Find("label_cells")) body.UInt64List("label_cells", &out->label_cells);
  if (body.Find("sample_anchor_probs")) body.Float32Vector("sample_anchor_probs", &out->sample_anchor_probs);
  if (body.Find("class_counts")) body.UInt64List("class_counts", &out->class_counts);
  if (body.Find("anchor_class_counts")) body.UInt64List("anchor_class_counts", &out->anchor_class_counts);
  if (!body.ok()) return;
  DecodeContext& ctx = body.context();
  if (!out->label_cells.empty() && out->label_cells.size() != 8) {
    ctx.Fail(ErrorCode::kInvalidArgument, body.PathOf("label_cells"),
             std::to_string(out->label_cells.size()) + " entries; expected 8 (truth x served x version 0)");
    return;
  }
  if (!out->class_counts.empty() && !out->anchor_class_counts.empty() &&
      out->class_counts.size() != out->anchor_class_counts.size()) {
    ctx.Fail(ErrorCode::kInvalidArgument, body.PathOf("anchor_class_counts"),
             std::to_string(out->anchor_class_counts.size()) + " classes, but class_counts has " +
                 std::to_string(out->class_counts.size()));
    return;
  }
  for (float p : out->sample_anchor_probs) {
    if (!(p >= 0.0f && p <= 1.0f)) {
      ctx.Fail(ErrorCode::kInvalidArgument, body.PathOf("sample_anchor_probs"), "a probability outside [0, 1]");
      return;
    }
  }
  if (out->rule_conflicts.size() != out->rule_fired.size()) {
    ctx.Fail(ErrorCode::kInvalidArgument, body.PathOf("rule_conflicts"),
             std::to_string(out->rule_conflicts.size()) + " entries, but rule_fired has " +
                 std::to_string(out->rule_fired.size()));
    return;
  }
  if (out->cols != 0 && !out->features.empty() && out->features.size() != out->cols) {
    ctx.Fail(ErrorCode::kWrongFeatureCount, body.PathOf("features"),
             std::to_string(out->features.size()) + " features, but cols is " +
                 std::to_string(out->cols));
    return;
  }
  CheckFlatRows(body, "sample_rows", "cols", out->cols, out->sample_rows);
  const size_t rows = out->cols ? out->sample_rows.size() / out->cols : 0;
  CheckLabelCount(body, "sample_labels", out->sample_labels.size(), rows);
}

void DecodeHealJob(FieldReader& body, HealJob* out) {
  body.UInt64("job_id", &out->job_id);
  if (const msgpack::object* base = body.Require("base")) {
    FieldReader record(&body.context(), *base, body.PathOf("base"));
    DecodeAdapterVersion(record, &out->base);
  }
  body.UInt32("cols", &out->cols);
  body.Float32Vector("rows", &out->rows);
  body.Int8List("labels", -1, 127, &out->labels);  // K-class: class ids
  body.StringMap("policy", &out->policy);
  body.UInt64("new_version", &out->new_version);
  body.UInt64("epoch", &out->epoch);
  CheckFlatRows(body, "rows", "cols", out->cols, out->rows);
  const size_t rows = out->cols ? out->rows.size() / out->cols : 0;
  CheckLabelCount(body, "labels", out->labels.size(), rows);
}

void DecodeHealResult(FieldReader& body, HealResult* out) {
  body.UInt64("job_id", &out->job_id);
  body.String("healer_id", &out->healer_id);
  body.Bool("accepted", &out->accepted);
  body.String("reason", &out->reason);
  if (const msgpack::object* candidate = body.Find("candidate")) {
    FieldReader record(&body.context(), *candidate, body.PathOf("candidate"));
    AdapterVersion version;
    DecodeAdapterVersion(record, &version);
    if (body.ok()) out->candidate = std::move(version);
  } else if (body.ok() && out->accepted) {
    body.FailMissing("candidate", "required when accepted is true");
  }
  body.NumberMap("metrics", &out->metrics);
}

void DecodeAdapterUpdate(FieldReader& body, AdapterUpdate* out) {
  body.UInt64("sequence", &out->sequence);
  if (const msgpack::object* adapter = body.Require("adapter")) {
    FieldReader record(&body.context(), *adapter, body.PathOf("adapter"));
    DecodeAdapterVersion(record, &out->adapter);
  }
}

void DecodeHeartbeat(FieldReader& body, Heartbeat* out) {
  body.String("sender_id", &out->sender_id);
  body.UInt64("epoch", &out->epoch);
  body.UInt64("sequence", &out->sequence);
  body.UInt64("latest_version", &out->latest_version);
  body.Int64("unix_ms", &out->unix_ms);
}

}  // namespace reflex::wire
