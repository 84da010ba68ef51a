// ScoringServer: the ZeroMQ front end of a replica's scoring path (docs/DESIGN.md §4).
//
// Frames: a client (DEALER) sends ONE frame, an encoded wire::ScoreRequest or LabelFeedback
// (codec.h). The ROUTER sees [identity, payload] and replies [identity, encoded ScoreReply].
// Any envelope frames before the payload (e.g. a REQ client's empty delimiter) are echoed back.
// Replies:
//   ScoreRequest  -> ScoreReply with Scorer::outputs_per_row() probabilities per row and the
//                    version that scored them, or an error code (wire::ErrorCode) and a message.
//                    A request that names its columns is reordered to the model's order
//                    (kColumnMismatch names unknown, missing or repeated names); a request with
//                    a row whose model output is not finite is refused as a whole
//                    (kNonFiniteScore, naming the row) and never reaches scored_sink.
//   LabelFeedback -> an acknowledgement: a ScoreReply echoing the request_id, no probabilities,
//                    version 0, error kOk when the label was joined or forwarded, kLabelDropped
//                    (with why) otherwise. The label goes to Options::label_sink.
//   LabelBatch    -> a LabelAck counting the labels joined, forwarded and dropped (by reason).
//   SchemaRequest -> a SchemaReply: feature and class names, served version, protocol versions.
//   Replies carry the request's protocol version (1 or 2; PROTOCOL.md §8). A K-class model
//   answers only version 2 score requests.
//   undecodable   -> a ScoreReply with the decode error's code and message, addressed with the
//                    request_id the codec recovered (0 when it could not).
//
// Threads and ownership:
//   - one I/O thread owns the ROUTER socket (ZeroMQ sockets are single-owner): it receives,
//     decodes and validates requests, sheds load, pushes work into a bounded queue, and sends
//     every reply. Workers hand replies back through a mutex-protected outbox and an eventfd the
//     I/O thread polls next to the ROUTER, so no socket is ever touched by two threads.
//   - opt-in (inline_max_rows > 0; off by default): a lone small request is scored on the I/O
//     thread itself: when it has at most inline_max_rows rows, the queue is empty, no worker is
//     scoring and no further frame is waiting in the socket, the I/O thread scores it, shows it
//     to scored_sink and sends the reply in the same turn, with no hand-off to a worker and back.
//     The Scorer and scored_sink then run on the I/O thread: both must be quick and must not
//     block (a blocked call stalls receiving and sending). Off by default because, measured with
//     a replica's drift sink under open-loop load, it cut the 1-row saturation rate about 10x
//     (reflex-bench --suite serve): not yet understood.
//   - `workers` worker threads pop work. With batching on, one worker at a time collects a
//     batch: it takes the first queued request, then keeps taking requests until the batch has
//     max_batch_rows rows or max_wait has passed since the first one, scores the whole batch
//     with ONE Scorer::Score call (so one version scores every row of it) and splits the
//     probabilities back: each caller gets exactly its own rows, in order. While it scores, the
//     next worker collects the next batch. By default a collector stops waiting as soon as the
//     queue is empty and no other worker is scoring: an idle server scores at once (no added
//     latency at low load), and batches form from what queues up while the scorer is busy,
//     which is when batching pays. wait_when_idle = true always waits up to max_wait.
//   - the queue is bounded by requests and by rows; when either bound would be passed the I/O
//     thread answers kOverloaded at once (memory stays bounded; the client retries elsewhere).
// Deadlines: a request whose deadline_unix_us (system clock) has passed when it arrives, or
// when its batch is about to be scored, is answered kDeadlineExceeded without scoring.
// Stop() stops taking new requests, lets the workers score everything already queued, sends
// those replies, then closes the socket (lingering linger_ms so the replies leave). The
// destructor calls Stop().
// Public methods are thread-safe. Units: microseconds, rows of float32.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "core/status.h"
#include "transport/curve_keys.h"
#include "transport/scorer.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace reflex::transport {

struct ScoringServerOptions {
  std::string endpoint = "tcp://127.0.0.1:*";  // what the ROUTER binds ("*" port: ephemeral)
  size_t workers = 2;                           // scoring threads
  bool batching = true;                         // coalesce concurrent requests
  size_t max_batch_rows = 256;                  // rows per Scorer::Score call (a bigger request
                                                // is scored alone)
  std::chrono::microseconds max_wait{200};      // how long a batch waits for company
  bool wait_when_idle = false;                  // wait for company even when no other worker
                                                // is scoring (adds up to max_wait of latency)
  size_t inline_max_rows = 0;                   // a lone request of at most this many rows is
                                                // scored on the I/O thread (see above); 0: never
                                                // (the default: every request goes to a worker).
                                                // Not used with wait_when_idle or batching off.
  size_t max_queue_requests = 1024;             // queued requests before shedding
  size_t max_queue_rows = 65536;                // queued rows before shedding
  wire::Limits limits;                          // decode limits; expected_cols is set from the
                                                // Scorer when left 0
  int linger_ms = 200;                          // how long Stop() lets unsent replies leave
  int send_high_water_mark = 10000;             // ZMQ_SNDHWM / ZMQ_RCVHWM of the ROUTER
  LabelSink label_sink;                         // may be empty: labels are then dropped
                                                // (acknowledged as unknown requests)
  ScoredSink scored_sink;                       // may be empty; sees each request scored OK
  std::optional<CurveServerConfig> curve;       // CURVE server keys (curve_keys.h): encrypt,
                                                // and clients must know curve->server.public_key
  std::vector<std::string> curve_allowed_clients;  // with curve: when non-empty, the server runs a
                                                // ZapAuthenticator on its own context accepting
                                                // only these client public keys (Z85); when
                                                // empty, any client that completes the handshake
};

// A snapshot of the server's counters (each monotonic since Start).
struct ScoringServerStats {
  uint64_t requests = 0;         // frames received (score requests, labels, garbage)
  uint64_t score_requests = 0;   // decoded score requests
  uint64_t labels = 0;           // labels received (label_feedback, and each of a label_batch)
  uint64_t labels_dropped = 0;   // of those, joined to no row and not forwarded
  uint64_t schema_requests = 0;  // schema requests answered
  uint64_t rows_scored = 0;      // rows the Scorer scored (those of a request refused for a
                                 // non-finite output included)
  uint64_t batches = 0;          // Scorer::Score calls
  uint64_t batched_requests = 0; // requests scored in those calls (batched_requests/batches:
                                 // mean requests per batch)
  uint64_t max_batch_requests = 0;  // most requests coalesced into one call
  uint64_t inline_requests = 0;  // requests scored on the I/O thread (counted in batches too)
  uint64_t shed = 0;             // requests answered kOverloaded
  uint64_t replies = 0;          // replies sent
  std::map<wire::ErrorCode, uint64_t> errors;  // error replies by code (kOk not counted)
  size_t queue_requests = 0;     // queued now
  uint64_t errors_with(wire::ErrorCode code) const {
    auto it = errors.find(code);
    return it == errors.end() ? 0 : it->second;
  }
};

class ScoringServer {
 public:
  // Binds the endpoint and starts the I/O and worker threads. Fails (InvalidArgument) on a null
  // scorer or bad options, (Unavailable/Internal) when the bind or the CURVE setup fails.
  static Result<std::unique_ptr<ScoringServer>> Start(std::shared_ptr<Scorer> scorer,
                                                      ScoringServerOptions options);
  ~ScoringServer();  // Stop()
  ScoringServer(const ScoringServer&) = delete;
  ScoringServer& operator=(const ScoringServer&) = delete;

  // The endpoint actually bound (ZMQ_LAST_ENDPOINT), e.g. "tcp://127.0.0.1:41237".
  const std::string& endpoint() const { return bound_endpoint_; }

  ScoringServerStats stats() const;

  // Answers every request already accepted, then closes. Idempotent; blocks until done.
  void Stop();

 private:
  struct WorkItem {
    std::vector<std::string> envelope;  // ROUTER identity (and any delimiter) to reply to
    wire::ScoreRequest request;         // rows in the model's column order
    uint32_t protocol_version = wire::kProtocolVersion;  // the request's: the reply's
  };
  struct Outgoing {
    std::vector<std::string> envelope;
    std::string payload;
    bool from_queue = false;            // answers a request counted in in_flight_
  };
  static int64_t NowUnixUs();           // system clock, as deadline_unix_us
  static wire::ScoreReply ErrorReply(uint64_t request_id, wire::ErrorCode code, std::string message);

  ScoringServer(std::shared_ptr<Scorer> scorer, ScoringServerOptions options);
  Status Bind();
  void IoLoop();
  // Workers (scoring_batching.cc).
  void WorkerLoop();
  bool CollectBatch(std::vector<WorkItem>* batch);
  void ScoreBatch(std::vector<WorkItem>* batch);
  bool CanScoreInline(size_t n_rows) const;  // requires queue_mu_
  void ScoreInline(WorkItem item);           // I/O thread
  // Request dispatch (scoring_dispatch.cc), on the I/O thread.
  void HandleFrame(std::vector<zmq::message_t>* parts);  // [envelope..., payload]
  void HandleLabel(std::vector<std::string> envelope, const wire::LabelFeedback& label, uint32_t protocol_version);
  void HandleLabelBatch(std::vector<std::string> envelope, const wire::LabelBatch& batch,
                        uint32_t protocol_version);
  void HandleSchema(std::vector<std::string> envelope, const wire::SchemaRequest& request,
                    uint32_t protocol_version);
  void HandleScore(std::vector<std::string> envelope, wire::ScoreRequest* request, uint32_t protocol_version);
  LabelOutcome JoinLabel(const wire::LabelFeedback& label);  // label_sink, or dropped without one
  // The error to answer a score request with, or kOk; reorders named columns into the model's
  // order.
  wire::ScoreReply CheckScoreRequest(wire::ScoreRequest* request, uint32_t protocol_version);
  // Answers one request of a scored batch with its rows' outputs (worker threads): refuses it
  // when an output is not finite, else shows it to scored_sink and replies.
  void AnswerScored(WorkItem* item, const float* outputs, uint32_t outputs_per_row, uint64_t version);
  // Queue a reply for the I/O thread to send (any thread). from_queue: it answers a request that
  // was accepted into the work queue (counted in in_flight_). The envelope carries
  // protocol_version (the request's).
  void Reply(std::vector<std::string> envelope, const wire::ScoreReply& reply,
             uint32_t protocol_version = wire::kProtocolVersion);
  void ReplyFromQueue(std::vector<std::string> envelope, const wire::ScoreReply& reply, bool from_queue,
                      uint32_t protocol_version = wire::kProtocolVersion);
  void SendMessage(std::vector<std::string> envelope, const wire::Message& message, wire::ErrorCode error,
                   bool from_queue, uint32_t protocol_version);
  void SendOutbox();                                                          // I/O thread
  void CountError(wire::ErrorCode code);
  void Wake();

  const std::shared_ptr<Scorer> scorer_;
  const ScoringServerOptions options_;
  wire::Limits limits_;                         // options_.limits with expected_cols filled in
  zmq::context_t context_{1};
  std::unique_ptr<ZapAuthenticator> zap_;        // only with curve_allowed_clients
  std::optional<zmq::socket_t> router_;         // owned by the I/O thread once started
  std::string bound_endpoint_;
  int wake_fd_ = -1;                            // eventfd: workers -> I/O thread
  std::atomic<std::thread::id> io_thread_id_{};  // set by the I/O thread: its own replies
                                                // need no eventfd wake-up
  bool socket_has_more_ = false;                // I/O thread only: another frame is readable

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<WorkItem> queue_;                  // guarded by queue_mu_
  size_t queued_rows_ = 0;                      // guarded by queue_mu_
  bool closed_ = false;                         // guarded by queue_mu_: Stop() began
  std::mutex collect_mu_;                       // one worker collects a batch at a time

  std::mutex outbox_mu_;
  std::vector<Outgoing> outbox_;                // guarded by outbox_mu_

  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> in_flight_{0};          // accepted into the queue, not yet replied
  std::atomic<size_t> scoring_workers_{0};      // workers inside ScoreBatch now
  std::mutex stop_mu_;                          // serialises Stop()
  bool stopped_ = false;                        // guarded by stop_mu_
  std::thread io_thread_;
  std::vector<std::thread> workers_;

  std::atomic<uint64_t> requests_{0}, score_requests_{0}, labels_{0}, labels_dropped_{0}, schema_requests_{0},
      rows_scored_{0},
      batches_{0}, batched_requests_{0}, max_batch_requests_{0}, inline_requests_{0}, shed_{0}, replies_{0};
  std::array<std::atomic<uint64_t>, 32> errors_{};
};

}  // namespace reflex::transport
