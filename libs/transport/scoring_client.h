// ScoringClient: scores rows against one or more scoring-server replicas (docs/DESIGN.md §4).
//
// One DEALER socket per replica; each request goes out as ONE frame (an encoded ScoreRequest,
// LabelFeedback, LabelBatch or SchemaRequest) and the matching reply (ScoreReply, LabelAck or
// SchemaReply) comes back as one frame (scoring_server.h). Score requests go out in
// options.protocol_version: 2 for a K-class model (K probabilities and a class per row).
// Replicas are used round robin. Reliability follows the ZeroMQ guide's Lazy Pirate pattern:
//   - each try waits at most attempt_timeout for that replica's reply; on a timeout the
//     replica's socket is closed and reopened (dropping anything queued on it, so a late reply
//     can never be taken for a later request) and the next replica is tried after a backoff;
//   - a replica that failed is skipped for down_time (unless every replica is down), so a dead
//     replica costs one retry, not a failed request;
//   - kOverloaded and kNotReady replies are retried on the next replica too; any other reply,
//     error or not, is returned as is.
// The same request_id is used for every try of a request (scoring is idempotent).
// Replies whose request_id does not match the outstanding request are discarded.
//
// Not thread-safe: use one client per thread (it owns ZeroMQ sockets, which are single-owner).
// Units: timeouts are milliseconds of wall time; rows are float32, row-major.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "core/status.h"
#include "transport/curve_keys.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace reflex::transport {

struct ScoringClientOptions {
  std::vector<std::string> endpoints;                  // replicas, e.g. "tcp://127.0.0.1:5555"
  int max_attempts = 3;                                // tries per call, across replicas
  std::chrono::milliseconds attempt_timeout{500};      // wait for one replica's reply
  std::chrono::milliseconds connect_timeout{100};      // wait for a replica to be connected
  std::chrono::milliseconds backoff_initial{5};        // sleep before the 2nd try, doubling
  std::chrono::milliseconds backoff_max{200};
  std::chrono::milliseconds down_time{1000};           // skip a replica this long after a failure
  bool send_deadline = true;                           // put now+timeout in deadline_unix_us
  wire::Limits reply_limits;                           // decode limits for replies
  uint32_t protocol_version = wire::kProtocolVersion;  // of score requests: 1, or 2 (K-class
                                                       // models answer only 2)
  std::optional<CurveClientConfig> curve;              // CURVE (curve_keys.h): the client's keys and
                                                       // the one server public key it trusts; every
                                                       // replica must then use that server key
};

class ScoringClient {
 public:
  // Connects to every endpoint (asynchronously: a replica that is down is not an error here).
  // Fails (InvalidArgument) with no endpoints, a malformed endpoint, max_attempts < 1, or CURVE
  // keys that are not valid Z85 keys.
  static Result<std::unique_ptr<ScoringClient>> Create(ScoringClientOptions options);
  ~ScoringClient();
  ScoringClient(const ScoringClient&) = delete;
  ScoringClient& operator=(const ScoringClient&) = delete;

  // Scores n_rows rows of `cols` features within `timeout` (the whole call, all tries).
  // Returns the server's reply (check reply.error: a server-side refusal such as
  // kWrongFeatureCount is a reply, not a Status), or
  //   DeadlineExceeded: no replica answered in time;
  //   InvalidArgument: n_rows == 0 or cols == 0.
  Result<wire::ScoreReply> Score(const float* rows, size_t n_rows, uint32_t cols,
                                 std::chrono::milliseconds timeout);

  // Sends a delayed label for row `row` of the earlier request `request_id` and waits for the
  // server's acknowledgement. Fails with DeadlineExceeded when no replica acknowledged in time,
  // InvalidArgument when the server refused it (message says why).
  Status SendLabel(uint64_t request_id, uint32_t row, uint8_t label, std::chrono::milliseconds timeout);

  // Sends many labels in one label_batch (its request_id is set here) and returns the server's
  // LabelAck: how many were joined, forwarded and dropped, and why. DeadlineExceeded when no
  // replica answered in time; InvalidArgument when the batch was refused.
  Result<wire::LabelAck> SendLabels(wire::LabelBatch batch, std::chrono::milliseconds timeout);

  // The served model's schema (feature and class names, outputs per row, version, protocol
  // versions). DeadlineExceeded when no replica answered in time.
  Result<wire::SchemaReply> Schema(std::chrono::milliseconds timeout);

  // The request_id the next Score() will use (tests and logs).
  uint64_t next_request_id() const { return next_id_; }
  // Total tries that failed over to another replica (timeouts, unreachable, shed).
  uint64_t retries() const { return retries_; }

 private:
  struct Replica;
  explicit ScoringClient(ScoringClientOptions options);
  // Sends `frame` and waits for the reply (ScoreReply, LabelAck or SchemaReply) echoing
  // request_id: one full round trip.
  Result<wire::Message> Call(const std::string& frame, uint64_t request_id,
                             std::chrono::steady_clock::time_point deadline);
  Result<wire::Message> Exchange(Replica& replica, const std::string& frame, uint64_t request_id,
                                 std::chrono::steady_clock::time_point attempt_deadline);
  // Call() expecting a ScoreReply.
  Result<wire::ScoreReply> CallForScoreReply(const std::string& frame, uint64_t request_id,
                                             std::chrono::steady_clock::time_point deadline);
  Status Open(Replica& replica);
  size_t PickReplica();

  ScoringClientOptions options_;
  zmq::context_t context_{1};
  std::vector<std::unique_ptr<Replica>> replicas_;
  size_t next_replica_ = 0;
  uint64_t next_id_ = 1;
  uint64_t retries_ = 0;
};

}  // namespace reflex::transport
