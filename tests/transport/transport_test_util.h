// Test helpers for the transport tests: a fake Scorer and a raw DEALER peer.
//
// FakeScorer computes sigmoid(sum(row)) per row (or, made K-class with set_classes, a softmax
// over K logits sum(row) * k) (so any row's probability can be recomputed
// alone and compared with what a batched call returned), records the rows of every call, and can
// be made not ready, slow, or held at a gate until the test releases it. Thread-safe.
// RawPeer is a DEALER that sends hand-made frames (garbage included) and reads raw replies;
// it is single-threaded like any socket. Every socket here has LINGER 0.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <zmq.hpp>

#include "transport/scorer.h"
#include "wire/codec.h"
#include "wire/messages.h"

// Boost.Test prints error and status codes by name in failed checks.
namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<reflex::wire::ErrorCode> {
  void operator()(std::ostream& os, reflex::wire::ErrorCode code) { os << reflex::wire::ErrorCodeName(code); }
};
template <>
struct print_log_value<reflex::StatusCode> {
  void operator()(std::ostream& os, reflex::StatusCode code) { os << reflex::StatusCodeName(code); }
};
}  // namespace boost::test_tools::tt_detail

namespace reflex::transport::testing {

inline float ReferenceProbability(const float* row, uint32_t cols) {
  float sum = 0;
  for (uint32_t c = 0; c < cols; ++c) sum += row[c];
  return 1.0f / (1.0f + std::exp(-sum));
}

// Softmax over K logits z_k = k * sum(row) / K, written to out[0..K).
inline void ReferenceClassProbabilities(const float* row, uint32_t cols, uint32_t k, float* out) {
  float sum = 0;
  for (uint32_t c = 0; c < cols; ++c) sum += row[c];
  float total = 0;
  for (uint32_t j = 0; j < k; ++j) total += out[j] = std::exp(sum * static_cast<float>(j) / static_cast<float>(k));
  for (uint32_t j = 0; j < k; ++j) out[j] /= total;
}

class FakeScorer : public Scorer {
 public:
  explicit FakeScorer(uint32_t cols) : cols_(cols) {}

  uint32_t cols() const override { return cols_; }
  uint32_t outputs_per_row() const override { return classes_; }
  ModelSchema schema() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return schema_;
  }
  ServedVersion served() const override { return {ready_.load(), version_.load(), epoch_.load()}; }

  Result<uint64_t> Score(const float* rows, size_t n_rows, float* probs) override {
    calls_++;
    {
      std::unique_lock<std::mutex> lock(mu_);
      batch_rows_.push_back(n_rows);
      entered_++;
      entered_cv_.notify_all();
      gate_cv_.wait(lock, [this] { return gate_open_; });
    }
    if (delay_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_.load()));
    if (!ready_) return Status::Unavailable("no adapter version loaded yet");
    for (size_t r = 0; r < n_rows; ++r) {
      if (classes_ == 1) {
        probs[r] = ReferenceProbability(rows + r * cols_, cols_);
      } else {
        ReferenceClassProbabilities(rows + r * cols_, cols_, classes_, probs + r * classes_);
      }
    }
    return version_.load();
  }

  void set_ready(bool ready) { ready_ = ready; }
  void set_delay_us(int us) { delay_us_ = us; }
  void set_version(uint64_t v) { version_ = v; }
  void set_epoch(uint64_t e) { epoch_ = e; }
  // Before the server starts: K >= 2 makes this a K-class scorer.
  void set_classes(uint32_t k) { classes_ = k; }
  void set_schema(ModelSchema schema) {
    std::lock_guard<std::mutex> lock(mu_);
    schema_ = std::move(schema);
  }
  // Closed: every Score call blocks (after recording itself) until Open().
  void CloseGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = true;
    gate_cv_.notify_all();
  }
  // Waits until at least n calls have entered Score (bounded).
  bool WaitEntered(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return entered_cv_.wait_for(lock, timeout, [&] { return entered_ >= n; });
  }
  std::vector<size_t> batch_rows() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_rows_;
  }
  size_t calls() const { return calls_; }

 private:
  const uint32_t cols_;
  uint32_t classes_ = 1;
  ModelSchema schema_;  // guarded by mu_
  std::atomic<bool> ready_{true};
  std::atomic<uint64_t> epoch_{1};
  std::atomic<int> delay_us_{0};
  std::atomic<uint64_t> version_{7};
  std::atomic<size_t> calls_{0};
  mutable std::mutex mu_;
  std::condition_variable gate_cv_, entered_cv_;
  bool gate_open_ = true;
  size_t entered_ = 0;
  std::vector<size_t> batch_rows_;
};

class RawPeer {
 public:
  RawPeer(zmq::context_t& context, const std::string& endpoint) : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void SendFrame(const std::string& frame) { socket_.send(zmq::buffer(frame), zmq::send_flags::none); }
  void Send(const wire::Message& message) { SendFrame(wire::Encode(message)); }
  void SendScore(uint64_t id, uint32_t cols, std::vector<float> rows, std::optional<int64_t> deadline = {}) {
    wire::ScoreRequest request;
    request.request_id = id;
    request.cols = cols;
    request.rows = std::move(rows);
    request.deadline_unix_us = deadline;
    Send(request);
  }
  // The next reply frame decoded as a ScoreReply, or nullopt after `timeout`.
  std::optional<wire::ScoreReply> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, timeout);
    if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
    zmq::message_t message;
    if (!socket_.recv(message, zmq::recv_flags::dontwait)) return std::nullopt;
    wire::Decoded decoded = wire::Decode(message.data(), message.size());
    if (!decoded.ok()) return std::nullopt;
    auto* reply = std::get_if<wire::ScoreReply>(&*decoded.message);
    if (!reply) return std::nullopt;
    return *reply;
  }
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

inline int64_t NowUnixUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace reflex::transport::testing
