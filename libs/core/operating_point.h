// Operating point: where a labelled heal puts its decision threshold on the accuracy/F1 curve.
//
// The head is linear in the adapter's output, so a labelled heal may move every logit by the
// same offset δ after its gradient steps (model/logit_offset.h does that exactly). Which δ to
// take is a choice between false positives and missed positives; this file makes that choice
// from labelled rows and nothing else, as a pure function, so the same rows always give the
// same offset and tests need no model.
//
// Rules (HealPolicy::operating_point):
//   none            δ = 0: the threshold the gradient steps left.
//   accuracy_at_f1  among the offsets whose F1 on the rows is not below a reference F1, the
//                   one with the highest accuracy (ties: the smallest |δ|). It buys accuracy
//                   but never at the price of F1, on the rows it was chosen on. When no offset
//                   reaches the reference, the one with the highest F1 (ties: accuracy).
// The healer's reference is the deployed model's (version 0) F1 on the same rows, a fixed
// anchor: were it the parent's F1, each heal would choose on its own rows' noise and the
// threshold would ratchet away over many heals (the "slow harm" of DESIGN.md §3).
// Candidate offsets are the midpoints between consecutive distinct sorted logits (every
// distinct decision the rows can tell apart), plus 0; a row counts as positive when
// logit + δ > 0, as in serving (p > 0.5).
//
// Thread-compatible plain functions. Logits are in nats; rates are fractions in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace reflex {

enum class OperatingPoint { kNone, kAccuracyAtF1 };
const char* OperatingPointName(OperatingPoint rule);

struct LogitOffsetChoice {
  double offset = 0;                  // δ to add to every logit
  size_t rows = 0;                    // labelled rows it was chosen on
  double accuracy_before = 0, f1_before = 0;  // at δ = 0
  double accuracy_after = 0, f1_after = 0;    // at the chosen δ
  double reference_f1 = 0;                    // the F1 the choice had to keep
};

// `labels` holds 0/1 per row; rows with any other value are skipped. `reference_f1` is the F1
// to keep (unset: the unshifted F1). With no usable row, or rule kNone, the choice is δ = 0
// (figures still measured on the usable rows).
LogitOffsetChoice ChooseLogitOffset(const float* logits, const int8_t* labels, size_t n, OperatingPoint rule,
                                    std::optional<double> reference_f1 = std::nullopt);

}  // namespace reflex
