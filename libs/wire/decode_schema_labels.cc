// Decoders of the schema and label-batch messages (PROTOCOL.md §4.13-4.16).
#include <string>
#include <vector>

#include "wire/message_decoders.h"

namespace reflex::wire {
namespace {

// Every value of `values` at most `max`, else kInvalidArgument naming the first one over.
bool CheckEachAtMost(FieldReader& body, const char* field, const std::vector<uint64_t>& values, uint64_t max,
                     const char* what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] > max) {
      return body.context().Fail(ErrorCode::kInvalidArgument,
                                 body.PathOf(field) + "[" + std::to_string(i) + "]",
                                 std::to_string(values[i]) + " is over " + std::to_string(max) + " (" + what + ")");
    }
  }
  return true;
}

}  // namespace

void DecodeSchemaRequest(FieldReader& body, SchemaRequest* out) { body.UInt64("request_id", &out->request_id); }

void DecodeSchemaReply(FieldReader& body, SchemaReply* out) {
  uint16_t error = 0;
  body.UInt64("request_id", &out->request_id);
  body.UInt16("error", &error);
  body.String("message", &out->message);
  body.StringList("feature_names", &out->feature_names);
  body.StringList("class_names", &out->class_names);
  body.UInt32("cols", &out->cols);
  body.UInt32("outputs_per_row", &out->outputs_per_row);
  body.Bool("ready", &out->ready);
  body.UInt64("version", &out->version);
  body.UInt64("epoch", &out->epoch);
  body.UInt64List("protocol_versions", &out->protocol_versions);
  if (body.ok()) out->error = static_cast<ErrorCode>(error);
}

void DecodeLabelBatch(FieldReader& body, LabelBatch* out) {
  body.UInt64("request_id", &out->request_id);
  body.UInt64List("request_ids", &out->request_ids);
  body.UInt64List("rows", &out->rows);
  body.UInt64List("labels", &out->labels);
  if (!body.ok()) return;
  const size_t n = out->request_ids.size();
  if (out->rows.size() != n || out->labels.size() != n) {
    body.context().Fail(ErrorCode::kInvalidArgument, body.path(),
                        "request_ids, rows and labels must have one entry per label, got " + std::to_string(n) +
                            ", " + std::to_string(out->rows.size()) + " and " + std::to_string(out->labels.size()));
    return;
  }
  if (n > body.limits().max_labels) {
    body.context().Fail(ErrorCode::kTooLarge, body.PathOf("labels"),
                        std::to_string(n) + " labels, over the limit " + std::to_string(body.limits().max_labels));
    return;
  }
  if (!CheckEachAtMost(body, "rows", out->rows, 0xffffffffu, "a row index is a uint32")) return;
  CheckEachAtMost(body, "labels", out->labels, 255, "a class id is a uint8");
}

void DecodeLabelAck(FieldReader& body, LabelAck* out) {
  uint16_t error = 0;
  body.UInt64("request_id", &out->request_id);
  body.UInt16("error", &error);
  body.String("message", &out->message);
  body.UInt64("received", &out->received);
  body.UInt64("joined", &out->joined);
  body.UInt64("forwarded", &out->forwarded);
  body.UInt64("dropped", &out->dropped);
  body.UInt64("dropped_unknown_request", &out->dropped_unknown_request);
  body.UInt64("dropped_row_out_of_range", &out->dropped_row_out_of_range);
  body.UInt64("dropped_duplicate", &out->dropped_duplicate);
  body.UInt64("dropped_too_late", &out->dropped_too_late);
  body.UInt64("dropped_invalid", &out->dropped_invalid);
  body.UInt64List("outcomes", &out->outcomes);
  if (body.ok()) out->error = static_cast<ErrorCode>(error);
}

}  // namespace reflex::wire
