// Per-message body decoders (PROTOCOL.md lists every field). Each reads the fields of one body
// map through a FieldReader, checks the message's own consistency rules (row widths, counts,
// finiteness, limits) and fills `out`; the first problem is recorded in the reader's
// DecodeContext and the caller discards `out`. Never throw.
//
// Scoring-path messages live in decode_scoring.cc, cluster-internal ones in decode_cluster.cc.
// Thread-safety: pure functions. Internal to libs/wire.
#pragma once

#include <string>
#include <vector>

#include "wire/field_reader.h"
#include "wire/messages.h"

namespace reflex::wire {

void DecodeScoreRequest(FieldReader& body, ScoreRequest* out);
void DecodeScoreReply(FieldReader& body, ScoreReply* out);
void DecodeLabelFeedback(FieldReader& body, LabelFeedback* out);
void DecodeControlRequest(FieldReader& body, ControlRequest* out);
void DecodeControlReply(FieldReader& body, ControlReply* out);
void DecodeSnapshotRequest(FieldReader& body, SnapshotRequest* out);
// Schema and label-batch messages (decode_schema_labels.cc).
void DecodeSchemaRequest(FieldReader& body, SchemaRequest* out);
void DecodeSchemaReply(FieldReader& body, SchemaReply* out);
void DecodeLabelBatch(FieldReader& body, LabelBatch* out);
void DecodeLabelAck(FieldReader& body, LabelAck* out);

void DecodeDriftSummary(FieldReader& body, DriftSummary* out);
void DecodeHealJob(FieldReader& body, HealJob* out);
void DecodeHealResult(FieldReader& body, HealResult* out);
void DecodeAdapterUpdate(FieldReader& body, AdapterUpdate* out);
void DecodeHeartbeat(FieldReader& body, Heartbeat* out);

// An adapter record (a nested map) at `record`'s path. Checks that the weight count matches the
// dims and, unless allow_non_finite, that every weight is finite; does NOT check the checksum
// (AdapterVersion::Verify is the receiver's decision).
void DecodeAdapterVersion(FieldReader& record, AdapterVersion* out);

// Shared by messages that carry rows as a flat float32 vector plus a width (`cols_field` names
// the width in messages): cols == 0 only with no values, cols <= max_cols, a whole number of
// rows, and (unless allowed) finite values.
void CheckFlatRows(FieldReader& body, const char* rows_field, const char* cols_field,
                   uint32_t cols, const std::vector<float>& values);

}  // namespace reflex::wire
