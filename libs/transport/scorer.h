// Scorer: what the scoring server calls to turn feature rows into probabilities.
//
// The transport layer knows nothing of models (DESIGN.md §5: transport -> wire -> core only);
// a service adapts its ServingEngine (or a test its fake) to this interface.
//
// Thread-safety: Score() and cols() are called concurrently from every worker thread of a
// ScoringServer, so implementations must be thread-safe. Ownership: the server does not own
// its Scorer alone: it holds a shared_ptr, so the Scorer lives as long as the server.
// Units: rows are float32, row-major, cols() features per row; probs are in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/status.h"
#include "wire/messages.h"

namespace reflex::transport {

class Scorer {
 public:
  virtual ~Scorer() = default;

  // Features per row the model expects. Must be constant for the Scorer's lifetime.
  virtual uint32_t cols() const = 0;

  // Scores `n_rows` rows (row-major, cols() floats each) into probs[0..n_rows). Returns the
  // adapter version that scored ALL of them (one version per call, never a mix), or
  //   Unavailable: no version is loaded yet (the server answers kNotReady);
  //   any other error: the server answers kInternal with the status message.
  // Thread-safe.
  virtual Result<uint64_t> Score(const float* rows, size_t n_rows, float* probs) = 0;
};

// Receives label feedback (a delayed true label for one row of an earlier request). Called on
// the scoring server's I/O thread, one call at a time: it must be quick (hand the label off to a
// queue or an actor) and must not throw.
using LabelSink = std::function<void(const wire::LabelFeedback&)>;

// Sees every request that was scored successfully: the request (its id and rows), one
// probability per row and the version that scored them. Called on scoring worker threads,
// concurrently and just before the reply is queued: it must be thread-safe, quick and must not throw.
// A replica uses it to summarise drift and to remember rows for delayed labels.
using ScoredSink = std::function<void(const wire::ScoreRequest&, const float* probs, uint64_t version)>;

}  // namespace reflex::transport
