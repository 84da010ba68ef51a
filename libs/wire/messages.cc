#include "wire/messages.h"

#include <type_traits>

namespace reflex::wire {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kScoreRequest: return "score_request";
    case MessageType::kScoreReply: return "score_reply";
    case MessageType::kLabelFeedback: return "label_feedback";
    case MessageType::kDriftSummary: return "drift_summary";
    case MessageType::kHealJob: return "heal_job";
    case MessageType::kHealResult: return "heal_result";
    case MessageType::kAdapterUpdate: return "adapter_update";
    case MessageType::kHeartbeat: return "heartbeat";
    case MessageType::kControlRequest: return "control_request";
    case MessageType::kControlReply: return "control_reply";
    case MessageType::kSnapshotRequest: return "snapshot_request";
    case MessageType::kSchemaRequest: return "schema_request";
    case MessageType::kSchemaReply: return "schema_reply";
    case MessageType::kLabelBatch: return "label_batch";
    case MessageType::kLabelAck: return "label_ack";
  }
  return "unknown_message_type";
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "Ok";
    case ErrorCode::kMalformed: return "Malformed";
    case ErrorCode::kUnsupportedVersion: return "UnsupportedVersion";
    case ErrorCode::kUnknownType: return "UnknownType";
    case ErrorCode::kMissingField: return "MissingField";
    case ErrorCode::kWrongType: return "WrongType";
    case ErrorCode::kWrongFeatureCount: return "WrongFeatureCount";
    case ErrorCode::kNonFinite: return "NonFinite";
    case ErrorCode::kTooManyRows: return "TooManyRows";
    case ErrorCode::kTooLarge: return "TooLarge";
    case ErrorCode::kDeadlineExceeded: return "DeadlineExceeded";
    case ErrorCode::kOverloaded: return "Overloaded";
    case ErrorCode::kNotReady: return "NotReady";
    case ErrorCode::kUnauthorized: return "Unauthorized";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kLabelDropped: return "LabelDropped";
    case ErrorCode::kNonFiniteScore: return "NonFiniteScore";
    case ErrorCode::kColumnMismatch: return "ColumnMismatch";
  }
  return "UnknownError";
}

MessageType TypeOf(const Message& message) {
  // The variant's alternatives are declared in MessageType order, starting at 1.
  static_assert(std::variant_size_v<Message> == 15, "update TypeOf and the codec");
  static_assert(std::is_same_v<std::variant_alternative_t<0, Message>, ScoreRequest>);
  static_assert(std::is_same_v<std::variant_alternative_t<1, Message>, ScoreReply>);
  static_assert(std::is_same_v<std::variant_alternative_t<2, Message>, LabelFeedback>);
  static_assert(std::is_same_v<std::variant_alternative_t<3, Message>, DriftSummary>);
  static_assert(std::is_same_v<std::variant_alternative_t<4, Message>, HealJob>);
  static_assert(std::is_same_v<std::variant_alternative_t<5, Message>, HealResult>);
  static_assert(std::is_same_v<std::variant_alternative_t<6, Message>, AdapterUpdate>);
  static_assert(std::is_same_v<std::variant_alternative_t<7, Message>, Heartbeat>);
  static_assert(std::is_same_v<std::variant_alternative_t<8, Message>, ControlRequest>);
  static_assert(std::is_same_v<std::variant_alternative_t<9, Message>, ControlReply>);
  static_assert(std::is_same_v<std::variant_alternative_t<10, Message>, SnapshotRequest>);
  static_assert(std::is_same_v<std::variant_alternative_t<11, Message>, SchemaRequest>);
  static_assert(std::is_same_v<std::variant_alternative_t<12, Message>, SchemaReply>);
  static_assert(std::is_same_v<std::variant_alternative_t<13, Message>, LabelBatch>);
  static_assert(std::is_same_v<std::variant_alternative_t<14, Message>, LabelAck>);
  return static_cast<MessageType>(message.index() + 1);
}

}  // namespace reflex::wire
