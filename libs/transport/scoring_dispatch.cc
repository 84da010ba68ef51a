// ScoringServer's request dispatch on the I/O thread: decode a frame, validate a score request
// (width, limits, named columns, protocol version against the model's outputs), queue it, or
// answer labels and schema requests at once; and, on worker threads, the reply to each scored
// request (non-finite outputs refused). scoring_server.h states the contract.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "transport/scoring_server.h"

namespace reflex::transport {
namespace {

using wire::ErrorCode;

constexpr size_t kMaxEnvelopeFrames = 8;  // identity + a few; more is not a client of ours
constexpr size_t kMaxNamesInMessage = 8;  // names listed in a column error before "..."

std::string ListNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxNamesInMessage; ++i) {
    out += (i ? ", '" : "'") + names[i] + "'";
  }
  if (names.size() > kMaxNamesInMessage) out += " and " + std::to_string(names.size() - kMaxNamesInMessage) + " more";
  return out;
}

// The model-order index of each request column, or an error naming the unknown, missing and
// repeated names.
Result<std::vector<size_t>> ColumnOrder(const std::vector<std::string>& given, const std::vector<std::string>& model) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < model.size(); ++i) index.emplace(model[i], i);
  std::vector<size_t> order;
  std::vector<bool> seen(model.size(), false);
  std::vector<std::string> unknown, repeated, missing;
  for (const std::string& name : given) {
    auto it = index.find(name);
    if (it == index.end()) {
      unknown.push_back(name);
    } else if (seen[it->second]) {
      repeated.push_back(name);
    } else {
      seen[it->second] = true;
      order.push_back(it->second);
    }
  }
  for (size_t i = 0; i < model.size(); ++i) {
    if (!seen[i]) missing.push_back(model[i]);
  }
  if (unknown.empty() && repeated.empty() && missing.empty()) return order;
  std::string why;
  if (!unknown.empty()) why += "unknown " + ListNames(unknown);
  if (!missing.empty()) why += std::string(why.empty() ? "" : "; ") + "missing " + ListNames(missing);
  if (!repeated.empty()) why += std::string(why.empty() ? "" : "; ") + "repeated " + ListNames(repeated);
  return Status::InvalidArgument(why + " (the model's columns: " + ListNames(model) + ")");
}

// Rows permuted so that request column c lands at model column order[c].
void Reorder(wire::ScoreRequest* request, const std::vector<size_t>& order) {
  const size_t cols = order.size();
  std::vector<float> rows(request->rows.size());
  for (size_t r = 0; r < request->n_rows(); ++r) {
    for (size_t c = 0; c < cols; ++c) rows[r * cols + order[c]] = request->rows[r * cols + c];
  }
  request->rows = std::move(rows);
}

uint64_t PredictedClass(const float* outputs, uint32_t k) {
  if (k == 1) return outputs[0] >= 0.5f ? 1 : 0;
  return static_cast<uint64_t>(std::max_element(outputs, outputs + k) - outputs);
}

}  // namespace

// Decodes and validates one [envelope..., payload] message; queues a score request or answers.
void ScoringServer::HandleFrame(std::vector<zmq::message_t>* parts) {
  requests_++;
  if (parts->size() < 2) return;  // ROUTER always prepends an identity; nothing to address
  if (parts->size() > kMaxEnvelopeFrames) {
    // Answer the peer without echoing an unbounded envelope.
    Reply({parts->front().to_string()},
          ErrorReply(0, ErrorCode::kMalformed, "scoring request: expected one payload frame"));
    return;
  }
  std::vector<std::string> envelope;
  envelope.reserve(parts->size() - 1);
  for (size_t i = 0; i + 1 < parts->size(); ++i) envelope.push_back((*parts)[i].to_string());
  const zmq::message_t& payload = parts->back();  // decoded in place, not copied

  wire::Decoded decoded = wire::Decode(payload.data(), payload.size(), limits_);
  if (!decoded.ok()) {
    ErrorCode code = decoded.error.code == ErrorCode::kOk ? ErrorCode::kMalformed : decoded.error.code;
    Reply(std::move(envelope), ErrorReply(decoded.request_id.value_or(0), code, decoded.error.message));
    return;
  }
  const uint32_t version = decoded.protocol_version;
  wire::Message& message = *decoded.message;
  if (auto* request = std::get_if<wire::ScoreRequest>(&message)) {
    HandleScore(std::move(envelope), request, version);
  } else if (auto* label = std::get_if<wire::LabelFeedback>(&message)) {
    HandleLabel(std::move(envelope), *label, version);
  } else if (auto* batch = std::get_if<wire::LabelBatch>(&message)) {
    HandleLabelBatch(std::move(envelope), *batch, version);
  } else if (auto* schema = std::get_if<wire::SchemaRequest>(&message)) {
    HandleSchema(std::move(envelope), *schema, version);
  } else {
    Reply(std::move(envelope),
          ErrorReply(0, ErrorCode::kInvalidArgument,
                     std::string("scoring server accepts score_request, label_feedback, label_batch and "
                                 "schema_request, got ") +
                         wire::MessageTypeName(wire::TypeOf(message))),
          version);
  }
}

LabelOutcome ScoringServer::JoinLabel(const wire::LabelFeedback& label) {
  labels_++;
  const uint32_t k = scorer_->outputs_per_row();
  const uint32_t classes = k == 1 ? 2 : k;
  LabelOutcome outcome = LabelOutcome::kUnknownRequest;
  if (label.label >= classes) {
    outcome = LabelOutcome::kInvalid;
  } else if (options_.label_sink) {
    try {
      outcome = options_.label_sink(label);
    } catch (...) {
      outcome = LabelOutcome::kUnknownRequest;  // a sink must not throw; the label is lost
    }
  }
  if (LabelDropped(outcome)) labels_dropped_++;
  return outcome;
}

void ScoringServer::HandleLabel(std::vector<std::string> envelope, const wire::LabelFeedback& label,
                                uint32_t protocol_version) {
  const LabelOutcome outcome = JoinLabel(label);
  wire::ScoreReply ack;  // echo the id, no probabilities, version 0
  ack.request_id = label.request_id;
  ack.outputs_per_row = scorer_->outputs_per_row();
  if (LabelDropped(outcome)) {
    ack.error = ErrorCode::kLabelDropped;
    ack.message = "label_feedback: request " + std::to_string(label.request_id) + " row " +
                  std::to_string(label.row) + " label " + std::to_string(label.label) + " dropped: " +
                  LabelOutcomeName(outcome);
  }
  Reply(std::move(envelope), ack, protocol_version);
}

void ScoringServer::HandleLabelBatch(std::vector<std::string> envelope, const wire::LabelBatch& batch,
                                     uint32_t protocol_version) {
  wire::LabelAck ack;
  ack.request_id = batch.request_id;
  ack.received = batch.request_ids.size();
  ack.outcomes.reserve(ack.received);
  std::map<LabelOutcome, uint64_t> dropped;
  for (size_t i = 0; i < batch.request_ids.size(); ++i) {
    wire::LabelFeedback label{batch.request_ids[i], static_cast<uint32_t>(batch.rows[i]),
                              static_cast<uint8_t>(batch.labels[i])};
    const LabelOutcome outcome = JoinLabel(label);
    ack.outcomes.push_back(static_cast<uint64_t>(outcome));
    if (outcome == LabelOutcome::kJoined) ack.joined++;
    else if (outcome == LabelOutcome::kForwarded) ack.forwarded++;
    else dropped[outcome]++;
  }
  ack.dropped_unknown_request = dropped[LabelOutcome::kUnknownRequest];
  ack.dropped_row_out_of_range = dropped[LabelOutcome::kRowOutOfRange];
  ack.dropped_duplicate = dropped[LabelOutcome::kDuplicate];
  ack.dropped_too_late = dropped[LabelOutcome::kTooLate];
  ack.dropped_invalid = dropped[LabelOutcome::kInvalid];
  ack.dropped = ack.received - ack.joined - ack.forwarded;
  if (ack.dropped > 0) {
    ack.message = "label_batch: " + std::to_string(ack.dropped) + " of " + std::to_string(ack.received) +
                  " labels dropped:";
    for (const auto& [outcome, n] : dropped) {
      if (n) ack.message += std::string(" ") + LabelOutcomeName(outcome) + " " + std::to_string(n) + ",";
    }
    ack.message.pop_back();
  }
  SendMessage(std::move(envelope), wire::Message(ack), ack.error, false, protocol_version);
}

void ScoringServer::HandleSchema(std::vector<std::string> envelope, const wire::SchemaRequest& request,
                                 uint32_t protocol_version) {
  schema_requests_++;
  const ModelSchema schema = scorer_->schema();
  const ServedVersion served = scorer_->served();
  wire::SchemaReply reply;
  reply.request_id = request.request_id;
  reply.feature_names = schema.feature_names;
  reply.class_names = schema.class_names;
  reply.cols = scorer_->cols();
  reply.outputs_per_row = scorer_->outputs_per_row();
  reply.ready = served.ready;
  reply.version = served.version;
  reply.epoch = served.epoch;
  // The versions a score request may use: a K-class model needs version 2's reply.
  const uint32_t lowest = reply.outputs_per_row == 1 ? wire::kProtocolVersion : wire::kProtocolVersion2;
  for (uint32_t v = lowest; v <= wire::kMaxProtocolVersion; ++v) reply.protocol_versions.push_back(v);
  SendMessage(std::move(envelope), wire::Message(reply), reply.error, false, protocol_version);
}

wire::ScoreReply ScoringServer::CheckScoreRequest(wire::ScoreRequest* request, uint32_t protocol_version) {
  const uint64_t id = request->request_id;
  const uint32_t want = scorer_->cols();
  const uint32_t k = scorer_->outputs_per_row();
  if (k > 1 && protocol_version < wire::kProtocolVersion2) {
    return ErrorReply(id, ErrorCode::kUnsupportedVersion,
                      "score_request: this model has " + std::to_string(k) +
                          " classes and answers " + std::to_string(k) +
                          " probabilities per row, which protocol version 1 cannot carry: send the request "
                          "with protocol_version 2 (PROTOCOL.md section 8)");
  }
  if (request->rows.empty()) return ErrorReply(id, ErrorCode::kInvalidArgument, "score_request.rows: no rows");
  if (!request->columns.empty()) {
    if (request->columns.size() != request->cols) {
      return ErrorReply(id, ErrorCode::kColumnMismatch,
                        "score_request.columns: " + std::to_string(request->columns.size()) + " names for " +
                            std::to_string(request->cols) + " columns");
    }
    const std::vector<std::string> model = scorer_->schema().feature_names;
    if (model.empty()) {
      return ErrorReply(id, ErrorCode::kColumnMismatch,
                        "score_request.columns: this model does not name its features; send rows unnamed, in "
                        "its column order");
    }
    auto order = ColumnOrder(request->columns, model);
    if (!order.ok()) return ErrorReply(id, ErrorCode::kColumnMismatch, "score_request.columns: " + order.status().message());
    if (!std::is_sorted(order->begin(), order->end())) Reorder(request, *order);
    request->columns.clear();  // the rows are in the model's order now
  }
  // The codec checks these too; checked again here so the server's contract does not depend on
  // the decode limits it was given.
  if (request->cols != want) {
    return ErrorReply(id, ErrorCode::kWrongFeatureCount,
                      "score_request.cols: " + std::to_string(request->cols) + " features, model expects " +
                          std::to_string(want));
  }
  if (request->rows.size() % want != 0) {
    return ErrorReply(id, ErrorCode::kWrongFeatureCount,
                      "score_request.rows: " + std::to_string(request->rows.size()) +
                          " values is not a whole number of rows of " + std::to_string(want));
  }
  const size_t n_rows = request->n_rows();
  if (n_rows > limits_.max_rows) {
    return ErrorReply(id, ErrorCode::kTooManyRows,
                      "score_request.rows: " + std::to_string(n_rows) + " rows, limit " +
                          std::to_string(limits_.max_rows));
  }
  if (!limits_.allow_non_finite) {
    for (size_t i = 0; i < request->rows.size(); ++i) {
      if (!std::isfinite(request->rows[i])) {
        return ErrorReply(id, ErrorCode::kNonFinite,
                          "score_request.rows[" + std::to_string(i / want) + "][" + std::to_string(i % want) +
                              "]: not finite");
      }
    }
  }
  if (request->deadline_unix_us && NowUnixUs() > *request->deadline_unix_us) {
    return ErrorReply(id, ErrorCode::kDeadlineExceeded, "score_request: deadline passed before it arrived");
  }
  return ErrorReply(id, ErrorCode::kOk, "");
}

void ScoringServer::HandleScore(std::vector<std::string> envelope, wire::ScoreRequest* request,
                                uint32_t protocol_version) {
  score_requests_++;
  const wire::ScoreReply refused = CheckScoreRequest(request, protocol_version);
  if (refused.error != ErrorCode::kOk) {
    Reply(std::move(envelope), refused, protocol_version);
    return;
  }
  const uint64_t id = request->request_id;
  const size_t n_rows = request->n_rows();
  bool accepted = false, score_inline = false;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closed_) {
      why = "server is stopping";
    } else if (CanScoreInline(n_rows)) {
      in_flight_++;  // answered like a queued request (ReplyFromQueue), so Stop() waits for it
      score_inline = true;
    } else if (queue_.size() >= options_.max_queue_requests) {
      why = "queue full: " + std::to_string(queue_.size()) + " requests waiting";
    } else if (queued_rows_ + n_rows > options_.max_queue_rows && !queue_.empty()) {
      why = "queue full: " + std::to_string(queued_rows_) + " rows waiting";
    } else {
      in_flight_++;
      queued_rows_ += n_rows;
      queue_.push_back(WorkItem{std::move(envelope), std::move(*request), protocol_version});
      accepted = true;
    }
  }
  if (score_inline) {
    ScoreInline(WorkItem{std::move(envelope), std::move(*request), protocol_version});
    return;
  }
  if (accepted) {
    queue_cv_.notify_one();
    return;
  }
  shed_++;
  Reply(std::move(envelope), ErrorReply(id, ErrorCode::kOverloaded, "scoring server overloaded: " + why),
        protocol_version);
}

void ScoringServer::AnswerScored(WorkItem* item, const float* outputs, uint32_t outputs_per_row, uint64_t version) {
  const size_t n = item->request.n_rows();
  const size_t values = n * outputs_per_row;
  for (size_t i = 0; i < values; ++i) {
    if (std::isfinite(outputs[i])) continue;
    const size_t row = i / outputs_per_row;
    // Refused as a whole (and kept from the sink and so from drift statistics): the client
    // learns which row, and a finite row can never be answered NaN.
    ReplyFromQueue(std::move(item->envelope),
                   ErrorReply(item->request.request_id, ErrorCode::kNonFiniteScore,
                              "score_request.rows[" + std::to_string(row) + "]: the model's output is " +
                                  (std::isnan(outputs[i]) ? "NaN" : "infinite") +
                                  " (the row's values are finite but too extreme for the model); no row of "
                                  "this request was scored"),
                   true, item->protocol_version);
    return;
  }
  wire::ScoreReply reply;
  reply.request_id = item->request.request_id;
  reply.version = version;
  reply.outputs_per_row = outputs_per_row;
  reply.probabilities.assign(outputs, outputs + values);
  if (item->protocol_version >= wire::kProtocolVersion2) {
    reply.classes.resize(n);
    for (size_t r = 0; r < n; ++r) reply.classes[r] = PredictedClass(outputs + r * outputs_per_row, outputs_per_row);
  }
  // Before the reply leaves, so a label the client sends at once finds its row.
  if (options_.scored_sink) {
    try {
      options_.scored_sink(item->request, outputs, outputs_per_row, version);
    } catch (...) {
      // A sink must not throw; if one does, the request is still answered.
    }
  }
  ReplyFromQueue(std::move(item->envelope), reply, true, item->protocol_version);
}

}  // namespace reflex::transport
