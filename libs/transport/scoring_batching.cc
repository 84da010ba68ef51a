// ScoringServer's worker threads: collecting batches off the queue (dynamic batching) and
// scoring them (scoring_server.h describes the policy). The I/O side is scoring_server.cc.
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "transport/scoring_server.h"

namespace reflex::transport {

using wire::ErrorCode;

void ScoringServer::WorkerLoop() {
  for (;;) {
    std::vector<WorkItem> batch;
    {
      std::lock_guard<std::mutex> collecting(collect_mu_);
      if (!CollectBatch(&batch)) return;
    }
    scoring_workers_++;
    ScoreBatch(&batch);
    if (--scoring_workers_ == 0 && !options_.wait_when_idle) {
      queue_cv_.notify_all();  // a collector waiting for company can stop waiting now
    }
  }
}

// Takes the next batch off the queue. Returns false when the server is stopping and the queue is
// empty (the worker exits). Called with collect_mu_ held: one collector at a time.
bool ScoringServer::CollectBatch(std::vector<WorkItem>* batch) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_cv_.wait(lock, [this] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return false;  // closed and drained

  size_t rows = 0;
  auto take = [&] {
    rows += queue_.front().request.n_rows();
    queued_rows_ -= queue_.front().request.n_rows();
    batch->push_back(std::move(queue_.front()));
    queue_.pop_front();
  };
  take();
  if (!options_.batching) return true;

  const auto until = std::chrono::steady_clock::now() + options_.max_wait;
  while (rows < options_.max_batch_rows) {
    if (!queue_.empty()) {
      if (rows + queue_.front().request.n_rows() > options_.max_batch_rows) break;  // next batch
      take();
      continue;
    }
    if (closed_) break;  // stopping: no company is coming, do not wait for it
    // Nobody else is scoring: the scorer is idle, so waiting would only add latency.
    if (!options_.wait_when_idle && scoring_workers_.load() == 0) break;
    if (queue_cv_.wait_until(lock, until) == std::cv_status::timeout && queue_.empty()) break;
  }
  // Another worker may be waiting for the collector's turn; the queue may still hold work.
  if (!queue_.empty() || closed_) queue_cv_.notify_one();
  return true;
}

bool ScoringServer::CanScoreInline(size_t n_rows) const {
  return options_.batching && !options_.wait_when_idle && n_rows <= options_.inline_max_rows && !socket_has_more_ &&
         queue_.empty() && scoring_workers_.load() == 0;
}

// The I/O thread scores a lone small request itself: no queue, no worker wake-up, no hand-back
// through the outbox's eventfd (the reply leaves at the end of this I/O turn).
void ScoringServer::ScoreInline(WorkItem item) {
  inline_requests_++;
  std::vector<WorkItem> batch;
  batch.push_back(std::move(item));
  scoring_workers_++;  // a collector waiting for company sees the scorer busy
  ScoreBatch(&batch);
  if (--scoring_workers_ == 0 && !options_.wait_when_idle) queue_cv_.notify_all();
}

// Scores a batch with one Scorer call and answers each request with exactly its rows.
void ScoringServer::ScoreBatch(std::vector<WorkItem>* batch) {
  const int64_t now = NowUnixUs();
  std::vector<WorkItem*> live;
  live.reserve(batch->size());
  size_t total_rows = 0;
  for (WorkItem& item : *batch) {
    if (item.request.deadline_unix_us && now > *item.request.deadline_unix_us) {
      ReplyFromQueue(std::move(item.envelope),
                     ErrorReply(item.request.request_id, ErrorCode::kDeadlineExceeded,
                                "score_request: deadline passed while queued"),
                     true, item.protocol_version);
      continue;
    }
    live.push_back(&item);
    total_rows += item.request.n_rows();
  }
  if (live.empty()) return;

  const uint32_t cols = scorer_->cols();
  std::vector<float> joined;
  const float* rows = live.front()->request.rows.data();
  if (live.size() > 1) {
    joined.reserve(total_rows * cols);
    for (WorkItem* item : live) {
      joined.insert(joined.end(), item->request.rows.begin(), item->request.rows.end());
    }
    rows = joined.data();
  }
  const uint32_t k = scorer_->outputs_per_row();
  std::vector<float> probs(total_rows * k);
  Result<uint64_t> version = Status::Internal("scorer did not run");
  try {
    version = scorer_->Score(rows, total_rows, probs.data());
  } catch (const std::exception& e) {
    version = Status::Internal(std::string("scorer threw: ") + e.what());
  } catch (...) {
    version = Status::Internal("scorer threw a non-standard exception");
  }

  if (!version.ok()) {
    const bool not_ready = version.status().code() == StatusCode::kUnavailable;
    for (WorkItem* item : live) {
      ReplyFromQueue(std::move(item->envelope),
                     ErrorReply(item->request.request_id,
                                not_ready ? ErrorCode::kNotReady : ErrorCode::kInternal,
                                (not_ready ? "scorer not ready: " : "scorer failed: ") +
                                    version.status().message()),
                     true, item->protocol_version);
    }
    return;
  }

  batches_++;
  batched_requests_ += live.size();
  rows_scored_ += total_rows;
  uint64_t seen = max_batch_requests_.load();
  while (live.size() > seen && !max_batch_requests_.compare_exchange_weak(seen, live.size())) {
  }

  size_t offset = 0;
  for (WorkItem* item : live) {
    AnswerScored(item, probs.data() + offset * k, k, *version);
    offset += item->request.n_rows();
  }
}

}  // namespace reflex::transport
