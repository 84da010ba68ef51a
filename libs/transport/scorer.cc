#include "transport/scorer.h"

namespace reflex::transport {

const char* LabelOutcomeName(LabelOutcome outcome) {
  switch (outcome) {
    case LabelOutcome::kJoined: return "joined";
    case LabelOutcome::kForwarded: return "forwarded";
    case LabelOutcome::kUnknownRequest: return "unknown request";
    case LabelOutcome::kRowOutOfRange: return "row out of range";
    case LabelOutcome::kDuplicate: return "duplicate";
    case LabelOutcome::kTooLate: return "too late";
    case LabelOutcome::kInvalid: return "invalid label";
  }
  return "unknown outcome";
}

}  // namespace reflex::transport
