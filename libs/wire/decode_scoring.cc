// Decoders of the scoring-path and control messages: what clients and operators send and get.
#include <string>
#include <vector>

#include "wire/message_decoders.h"

namespace reflex::wire {
namespace {

std::string RowPath(const std::string& rows_path, size_t row) {
  return rows_path + "[" + std::to_string(row) + "]";
}

// The width checks shared by both row shapes; `cols_where` names the width in messages. A
// request that names its columns is not held to expected_cols: the server compares the names.
bool CheckScoreWidth(DecodeContext& ctx, const std::string& cols_where, uint32_t cols, bool named) {
  const Limits& limits = ctx.limits();
  if (cols > limits.max_cols) {
    return ctx.Fail(ErrorCode::kTooLarge, cols_where,
                    std::to_string(cols) + " features per row, over the limit " +
                        std::to_string(limits.max_cols));
  }
  if (!named && limits.expected_cols != 0 && cols != limits.expected_cols) {
    return ctx.Fail(ErrorCode::kWrongFeatureCount, cols_where,
                    std::to_string(cols) + " features per row, expected " +
                        std::to_string(limits.expected_cols));
  }
  return true;
}

// rows as [[f, f, ...], [f, f, ...], ...]: every inner array has `cols` numbers. `cols` comes
// from the "cols" field when present, else from the first row.
void DecodeTwoDimensionalRows(FieldReader& body, const msgpack::object_array& outer,
                              ScoreRequest* out) {
  DecodeContext& ctx = body.context();
  const std::string where = body.PathOf("rows");
  if (outer.size > body.limits().max_rows) {
    ctx.Fail(ErrorCode::kTooManyRows, where,
             std::to_string(outer.size) + " rows, over the limit " +
                 std::to_string(body.limits().max_rows));
    return;
  }
  uint32_t cols = 0;
  std::string cols_where = body.PathOf("cols");
  if (body.Find("cols") != nullptr) {
    body.UInt32("cols", &cols);
  } else if (outer.ptr[0].type == msgpack::type::ARRAY) {
    cols = outer.ptr[0].via.array.size;  // msgpack arrays hold < 2^32 elements
    cols_where = where;
  }
  if (!body.ok()) return;
  if (cols == 0) {
    ctx.Fail(ErrorCode::kWrongFeatureCount, cols_where, "rows have 0 features");
    return;
  }
  if (!CheckScoreWidth(ctx, cols_where, cols, !out->columns.empty())) return;
  // Shape first (every row an array of `cols` values), then the values.
  for (size_t r = 0; r < outer.size; ++r) {
    const msgpack::object& row = outer.ptr[r];
    if (row.type != msgpack::type::ARRAY) {
      ctx.Fail(ErrorCode::kWrongType, RowPath(where, r),
               std::string("expected an array of numbers, got ") + MsgpackTypeName(row));
      return;
    }
    if (row.via.array.size != cols) {
      ctx.Fail(ErrorCode::kWrongFeatureCount, where,
               "row " + std::to_string(r) + " has " + std::to_string(row.via.array.size) +
                   " values, expected " + std::to_string(cols));
      return;
    }
  }
  // Every value is present in the frame (the pre-scan checked), so this allocation is bounded.
  std::vector<float> values(outer.size * static_cast<size_t>(cols));
  const bool allow_non_finite = body.limits().allow_non_finite;
  for (size_t r = 0; r < outer.size; ++r) {
    const msgpack::object_array& row = outer.ptr[r].via.array;
    for (size_t c = 0; c < cols; ++c) {
      float& value = values[r * cols + c];
      if (TryNumberAsFloat(row.ptr[c], allow_non_finite, &value)) continue;
      if (!ReadNumberAsFloat(ctx, row.ptr[c], RowPath(where, r) + "[" + std::to_string(c) + "]",
                             &value)) {
        return;
      }
    }
  }
  if (!CheckFinite(ctx, values, where, cols)) return;
  out->cols = cols;
  out->rows = std::move(values);
}

}  // namespace

void CheckFlatRows(FieldReader& body, const char* rows_field, const char* cols_field,
                   uint32_t cols, const std::vector<float>& values) {
  DecodeContext& ctx = body.context();
  if (!ctx.ok()) return;
  if (cols == 0 && !values.empty()) {
    ctx.Fail(ErrorCode::kWrongFeatureCount, body.PathOf(cols_field),
             "0 features per row, but " + std::string(rows_field) + " has " +
                 std::to_string(values.size()) + " values");
    return;
  }
  if (cols > body.limits().max_cols) {
    ctx.Fail(ErrorCode::kTooLarge, body.PathOf(cols_field),
             std::to_string(cols) + " features per row, over the limit " +
                 std::to_string(body.limits().max_cols));
    return;
  }
  if (cols != 0 && values.size() % cols != 0) {
    ctx.Fail(ErrorCode::kWrongFeatureCount, body.PathOf(rows_field),
             std::to_string(values.size()) + " values is not a whole number of rows of " +
                 std::to_string(cols));
    return;
  }
  CheckFinite(ctx, values, body.PathOf(rows_field), cols);
}

void DecodeScoreRequest(FieldReader& body, ScoreRequest* out) {
  body.UInt64("request_id", &out->request_id);
  body.OptionalInt64("deadline_unix_us", &out->deadline_unix_us);
  if (body.Find("columns") != nullptr) body.StringList("columns", &out->columns);
  const msgpack::object* rows = body.Require("rows");
  if (!body.ok()) return;
  if (rows->type == msgpack::type::ARRAY && rows->via.array.size > 0 &&
      rows->via.array.ptr[0].type == msgpack::type::ARRAY) {
    DecodeTwoDimensionalRows(body, rows->via.array, out);
    return;
  }
  // Flat rows (bin of float32 or array of numbers) need the width.
  if (body.Find("cols") == nullptr) {
    body.FailMissing("cols", "required unless rows is a 2-D array");
    return;
  }
  uint32_t cols = 0;
  std::vector<float> values;
  body.UInt32("cols", &cols);
  body.Float32Vector("rows", &values);
  if (!body.ok()) return;
  DecodeContext& ctx = body.context();
  if (cols == 0 && values.empty()) {  // an empty request: nothing to score, nothing to check
    out->cols = 0;
    out->rows.clear();
    return;
  }
  if (!CheckScoreWidth(ctx, body.PathOf("cols"), cols, !out->columns.empty())) return;
  if (cols != 0 && values.size() / cols > body.limits().max_rows) {
    ctx.Fail(ErrorCode::kTooManyRows, body.PathOf("rows"),
             std::to_string(values.size() / cols) + " rows, over the limit " +
                 std::to_string(body.limits().max_rows));
    return;
  }
  CheckFlatRows(body, "rows", "cols", cols, values);
  if (!body.ok()) return;
  out->cols = cols;
  out->rows = std::move(values);
}

void DecodeScoreReply(FieldReader& body, ScoreReply* out) {
  uint16_t error = 0;
  body.UInt64("request_id", &out->request_id);
  body.UInt16("error", &error);
  body.String("message", &out->message);
  body.Float32Vector("probabilities", &out->probabilities);
  body.UInt64("version", &out->version);
  // Version 2's fields; a version 1 reply has neither (1 output per row, no classes).
  if (body.Find("outputs_per_row") != nullptr) body.UInt32("outputs_per_row", &out->outputs_per_row);
  if (body.Find("classes") != nullptr) body.UInt64List("classes", &out->classes);
  if (!body.ok()) return;
  out->error = static_cast<ErrorCode>(error);  // unknown codes are kept: a newer peer's codes
  CheckFinite(body.context(), out->probabilities, body.PathOf("probabilities"));
  if (body.ok() && out->outputs_per_row == 0 && !out->probabilities.empty()) {
    body.context().Fail(ErrorCode::kInvalidArgument, body.PathOf("outputs_per_row"),
                        "0, but probabilities has values");
  } else if (body.ok() && out->outputs_per_row > 0 && out->probabilities.size() % out->outputs_per_row != 0) {
    body.context().Fail(ErrorCode::kInvalidArgument, body.PathOf("probabilities"),
                        std::to_string(out->probabilities.size()) + " values is not a whole number of rows of " +
                            std::to_string(out->outputs_per_row));
  }
}

void DecodeLabelFeedback(FieldReader& body, LabelFeedback* out) {
  body.UInt64("request_id", &out->request_id);
  body.UInt32("row", &out->row);
  body.UInt8("label", &out->label);
  // Version 2 carries any class id (the server checks it against the model's classes).
  if (body.ok() && out->label > 1 && body.context().protocol_version() < kProtocolVersion2) {
    body.context().Fail(ErrorCode::kInvalidArgument, body.PathOf("label"),
                        std::to_string(out->label) + " is not 0 or 1");
  }
}

void DecodeControlRequest(FieldReader& body, ControlRequest* out) {
  body.UInt64("request_id", &out->request_id);
  body.String("command", &out->command);
  body.StringList("args", &out->args);
}

void DecodeControlReply(FieldReader& body, ControlReply* out) {
  uint16_t error = 0;
  body.UInt64("request_id", &out->request_id);
  body.UInt16("error", &error);
  body.String("message", &out->message);
  body.String("body_json", &out->body_json);
  if (body.ok()) out->error = static_cast<ErrorCode>(error);
}

void DecodeSnapshotRequest(FieldReader& body, SnapshotRequest* out) {
  body.String("subscriber_id", &out->subscriber_id);
}

}  // namespace reflex::wire
