// Scorer: what the scoring server calls to turn feature rows into model outputs.
//
// The transport layer knows nothing of models (transport -> wire -> core only); a service adapts
// its ServingEngine (or a test its fake) to this interface.
//
// Outputs per row (outputs_per_row()):
//   1       a binary model: one P(positive) in [0, 1] per row;
//   K >= 2  a K-class model: K class probabilities per row, in class-id order 0..K-1, each in
//           [0, 1] and summing to 1 (within float rounding).
// Score() writes n_rows * outputs_per_row() floats, row-major (row r's outputs start at
// out[r * outputs_per_row()]). ScoredSink receives exactly those floats for the rows of one
// request, with outputs_per_row passed along so a sink never has to ask the Scorer.
//
// Thread-safety: every method is called concurrently from every worker thread (and the I/O
// thread) of a ScoringServer, so implementations must be thread-safe. cols(),
// outputs_per_row() and schema() must be constant for the Scorer's lifetime. Ownership: the
// server holds a shared_ptr, so the Scorer lives as long as the server.
// Units: rows are float32, row-major, cols() features per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "wire/messages.h"

namespace reflex::transport {

// What a client may learn about the served model (the schema request, PROTOCOL.md).
struct ModelSchema {
  std::vector<std::string> feature_names;  // cols() names in the model's column order; may be
                                           // empty (an unnamed model: named requests refused)
  std::vector<std::string> class_names;    // one per class id 0..K-1 (binary: 2 names, the
                                           // output is P(class 1)); may be empty
};

// The version a scorer serves right now (for the schema reply).
struct ServedVersion {
  bool ready = false;     // false: no version yet (scoring answers kNotReady)
  uint64_t version = 0;
  uint64_t epoch = 0;     // coordinator epoch that produced it
};

class Scorer {
 public:
  virtual ~Scorer() = default;

  // Features per row the model expects.
  virtual uint32_t cols() const = 0;

  // Floats Score() writes per row: 1 (binary P(positive)) or K >= 2 class probabilities.
  virtual uint32_t outputs_per_row() const { return 1; }

  // Feature and class names. Default: unnamed.
  virtual ModelSchema schema() const { return {}; }

  // The version being served. Default: unknown (not ready, 0, 0).
  virtual ServedVersion served() const { return {}; }

  // Scores `n_rows` rows (row-major, cols() floats each) into out[0 .. n_rows *
  // outputs_per_row()). Returns the adapter version that scored ALL of them (one version per
  // call, never a mix), or
  //   Unavailable: no version is loaded yet (the server answers kNotReady);
  //   any other error: the server answers kInternal with the status message.
  // Outputs may be non-finite (an extreme row); the server refuses such rows, not the Scorer.
  virtual Result<uint64_t> Score(const float* rows, size_t n_rows, float* out) = 0;
};

// What became of one delayed label (the label ack reports it, PROTOCOL.md §4.3).
enum class LabelOutcome : uint8_t {
  kJoined = 0,          // joined to a remembered row of this replica
  kForwarded = 1,       // not known here; handed on to the fleet (another replica may know it)
  kUnknownRequest = 2,  // dropped: no replica remembers this request id
  kRowOutOfRange = 3,   // dropped: the request had fewer rows
  kDuplicate = 4,       // dropped: that row already has a label
  kTooLate = 5,         // dropped: the row has left the bounded label cache
  kInvalid = 6,         // dropped: label value not acceptable for the model
};
const char* LabelOutcomeName(LabelOutcome outcome);
inline bool LabelDropped(LabelOutcome outcome) {
  return outcome != LabelOutcome::kJoined && outcome != LabelOutcome::kForwarded;
}

// Receives label feedback (a delayed true label for one row of an earlier request) and says
// what became of it. Called on the scoring server's I/O thread, one call at a time: it must be
// quick (hand the label off to a queue or an actor) and must not throw.
using LabelSink = std::function<LabelOutcome(const wire::LabelFeedback&)>;

// Sees every request that was scored successfully: the request (its id and rows, in the
// model's column order), outputs_per_row floats per row (as Scorer::Score wrote them; every one
// finite: a request with a non-finite output is refused and never reaches the sink) and the
// version that scored them. Called on scoring worker threads, concurrently and just before the
// reply is queued: it must be thread-safe, quick and must not throw. A replica uses it to
// summarise drift and to remember rows for delayed labels.
using ScoredSink = std::function<void(const wire::ScoreRequest&, const float* outputs, uint32_t outputs_per_row,
                                      uint64_t version)>;

}  // namespace reflex::transport
