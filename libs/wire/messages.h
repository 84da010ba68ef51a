// Wire messages: the values Reflex's processes and clients exchange over ZeroMQ.
//
// Every message travels as one msgpack frame (codec.h) inside an envelope that carries the
// protocol version and the message type; PROTOCOL.md specifies the bytes. These structs are
// plain values (copyable, no synchronisation). Units: times are microseconds or milliseconds
// since the Unix epoch as named; rows are float32, row-major, `cols` features per row.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/adapter_version.h"
#include "core/welford.h"

namespace reflex::wire {

// Version 1: binary models (one probability per row). Version 2 (PROTOCOL.md §8): a score reply
// also carries outputs_per_row and each row's predicted class, for K-class models. Every other
// body is the same in both; a peer answers in the version it was asked in.
constexpr uint32_t kProtocolVersion = 1;   // what Encode writes unless told otherwise
constexpr uint32_t kProtocolVersion2 = 2;
constexpr uint32_t kMaxProtocolVersion = 2;

enum class MessageType : uint8_t {
  kScoreRequest = 1,
  kScoreReply = 2,
  kLabelFeedback = 3,
  kDriftSummary = 4,
  kHealJob = 5,
  kHealResult = 6,
  kAdapterUpdate = 7,
  kHeartbeat = 8,
  kControlRequest = 9,
  kControlReply = 10,
  kSnapshotRequest = 11,
  kSchemaRequest = 12,
  kSchemaReply = 13,
  kLabelBatch = 14,
  kLabelAck = 15,
};
const char* MessageTypeName(MessageType type);

// Error codes carried in replies; stable numbers (PROTOCOL.md lists them).
enum class ErrorCode : uint16_t {
  kOk = 0,
  kMalformed = 1,            // not msgpack, or not the envelope shape
  kUnsupportedVersion = 2,   // protocol version this peer does not speak
  kUnknownType = 3,          // message type number not known
  kMissingField = 4,
  kWrongType = 5,            // a field has the wrong msgpack type
  kWrongFeatureCount = 6,    // rows do not have the model's number of features
  kNonFinite = 7,            // NaN or Inf in a row (when rejected by configuration)
  kTooManyRows = 8,
  kTooLarge = 9,             // message over the byte limit, or an array/string over its limit
  kDeadlineExceeded = 10,
  kOverloaded = 11,          // server is shedding load; retry later or elsewhere
  kNotReady = 12,            // server has no current version yet
  kUnauthorized = 13,
  kInvalidArgument = 14,     // well-formed but not acceptable (bad policy value, unknown command)
  kInternal = 15,
  kLabelDropped = 16,        // a label_feedback that joined no row (its message says why)
  kNonFiniteScore = 17,      // the model's output for a row is NaN/Inf (legal but extreme values)
  kColumnMismatch = 18,      // named columns unknown, missing or repeated
};
const char* ErrorCodeName(ErrorCode code);

struct ScoreRequest {
  uint64_t request_id = 0;
  uint32_t cols = 0;                 // features per row
  std::vector<float> rows;           // rows.size() == n_rows * cols
  std::optional<int64_t> deadline_unix_us;  // reply is pointless after this
  std::vector<std::string> columns;  // optional: the name of each of the cols columns (any order)
  size_t n_rows() const { return cols ? rows.size() / cols : 0; }
};

struct ScoreReply {
  uint64_t request_id = 0;
  ErrorCode error = ErrorCode::kOk;
  std::string message;               // set when error != kOk: what, where, why
  std::vector<float> probabilities;  // outputs_per_row per row when error == kOk
  uint64_t version = 0;              // adapter version that scored every row of the request
  // Protocol version 2 only (absent in version 1: 1 and empty):
  uint32_t outputs_per_row = 1;      // 1: P(positive) per row; K >= 2: K class probabilities
  std::vector<uint64_t> classes;     // predicted class id per row when error == kOk
};

struct LabelFeedback {
  uint64_t request_id = 0;
  uint32_t row = 0;                  // index of the row within that request
  uint8_t label = 0;                 // class id: 0 or 1 (version 1); 0..K-1 (version 2)
};

// Many labels in one message (type 14): label i is (request_ids[i], rows[i], labels[i]).
struct LabelBatch {
  uint64_t request_id = 0;           // this batch's own id, echoed in the label_ack
  std::vector<uint64_t> request_ids; // the scored requests
  std::vector<uint64_t> rows;        // row index within each (each <= 2^32-1)
  std::vector<uint64_t> labels;      // class id of each (each <= 255)
};

// What became of the labels of a label_batch (type 15). outcomes[i] is label i's fate, numbered
// as transport::LabelOutcome: 0 joined, 1 forwarded, 2 unknown request, 3 row out of range,
// 4 duplicate, 5 too late, 6 invalid label. The counts add up: received = joined + forwarded +
// dropped, dropped = the sum of the dropped_* counts.
struct LabelAck {
  uint64_t request_id = 0;
  ErrorCode error = ErrorCode::kOk;  // kOk when the batch was read (even if every label dropped)
  std::string message;               // a summary when any was dropped: what and why
  uint64_t received = 0, joined = 0, forwarded = 0, dropped = 0;
  uint64_t dropped_unknown_request = 0, dropped_row_out_of_range = 0, dropped_duplicate = 0,
           dropped_too_late = 0, dropped_invalid = 0;
  std::vector<uint64_t> outcomes;
};

// Asks a scoring server what it serves (type 12).
struct SchemaRequest {
  uint64_t request_id = 0;
};

// The served model's schema (type 13).
struct SchemaReply {
  uint64_t request_id = 0;
  ErrorCode error = ErrorCode::kOk;
  std::string message;
  std::vector<std::string> feature_names;  // the model's column order (may be empty: unnamed)
  std::vector<std::string> class_names;    // class id i is class_names[i]
  uint32_t cols = 0;                        // features per row
  uint32_t outputs_per_row = 1;             // 1: binary P(class 1); K: K class probabilities
  bool ready = false;                       // false: scoring answers NotReady
  uint64_t version = 0;                     // adapter version served now
  uint64_t epoch = 0;                       // coordinator epoch that produced it
  std::vector<uint64_t> protocol_versions;  // envelope versions this server speaks, e.g. [1, 2]
};

struct DriftSummary {
  std::string replica_id;
  int64_t window_start_unix_ms = 0;
  int64_t window_end_unix_ms = 0;
  uint64_t rows_scored = 0;          // in this window
  uint64_t served_version = 0;
  std::vector<RunningStats> features;       // per feature count/mean/M2 over the window
  std::vector<uint64_t> rule_fired;         // per rule
  std::vector<uint64_t> rule_conflicts;     // per rule
  uint32_t cols = 0;
  std::vector<float> sample_rows;           // reservoir sample, row-major
  std::vector<int8_t> sample_labels;        // per sample row: 0/1 (K-class: 0..K-1), or -1 when unknown
  // Optional on the wire (absent = 0), for label-free and labelled health checks:
  uint64_t positives = 0;                   // rows in this window scored >= 0.5
  // Delayed labels joined in this window to rows that served_version scored (threshold 0.5).
  uint64_t label_tp = 0, label_fp = 0, label_tn = 0, label_fn = 0;
  // Optional (absent = empty): the same joined labels against version 0 scored in shadow, as 8
  // joint counts indexed truth * 4 + served_positive * 2 + v0_positive; and version 0's
  // probability of every unlabelled sample row (the coordinator's prior estimate).
  std::vector<uint64_t> label_cells;
  std::vector<float> sample_anchor_probs;
  // Optional (absent = 0, and then not sent): the served version's epoch and checksum, so the
  // coordinator compares (epoch, version, checksum) and not the number alone; and the highest
  // coordinator epoch this replica's weight-bus fence has seen, so a coordinator that lost its
  // EPOCH learns the fleet's and moves above it.
  uint64_t served_epoch = 0;
  uint64_t served_checksum = 0;
  uint64_t highest_epoch = 0;
  // Optional (absent = empty), K-class models only: per class, the window's rows served_version
  // predicted in that class (argmax), and version 0's predicted classes of the unlabelled sample
  // rows (scored in shadow). A K-class summary's label_cells count "right" as positive (truth 1).
  std::vector<uint64_t> class_counts;
  std::vector<uint64_t> anchor_class_counts;
};

struct HealJob {
  uint64_t job_id = 0;
  AdapterVersion base;
  uint32_t cols = 0;
  std::vector<float> rows;
  std::vector<int8_t> labels;               // empty, or one per row (-1 unknown; K-class: a class id)
  std::map<std::string, std::string> policy;  // HealPolicy::ToMap()
  uint64_t new_version = 0;
  uint64_t epoch = 0;
};

struct HealResult {
  uint64_t job_id = 0;
  std::string healer_id;
  bool accepted = false;
  std::string reason;
  std::optional<AdapterVersion> candidate;  // only when accepted
  std::map<std::string, double> metrics;
};

struct AdapterUpdate {
  uint64_t sequence = 0;   // bus sequence number (gap detection), distinct from adapter.version
  AdapterVersion adapter;  // carries epoch, version, parent, dims, weights, checksum
};

struct Heartbeat {
  std::string sender_id;
  uint64_t epoch = 0;
  uint64_t sequence = 0;          // last bus sequence published
  uint64_t latest_version = 0;
  int64_t unix_ms = 0;
};

// Operator commands: status, policy-get, policy-set, heal, rollback, pin, unpin, freeze,
// unfreeze, history. Arguments are text (e.g. {"lr", "0.01"} for policy-set).
struct ControlRequest {
  uint64_t request_id = 0;
  std::string command;
  std::vector<std::string> args;
};

struct ControlReply {
  uint64_t request_id = 0;
  ErrorCode error = ErrorCode::kOk;
  std::string message;
  std::string body_json;   // command-specific result, JSON text
};

struct SnapshotRequest {
  std::string subscriber_id;
};

using Message = std::variant<ScoreRequest, ScoreReply, LabelFeedback, DriftSummary, HealJob, HealResult,
                             AdapterUpdate, Heartbeat, ControlRequest, ControlReply, SnapshotRequest,
                             SchemaRequest, SchemaReply, LabelBatch, LabelAck>;
MessageType TypeOf(const Message& message);

}  // namespace reflex::wire
