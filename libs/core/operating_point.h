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
//   expected_accuracy_at_f1  the same on expected counts from a calibration of the logits
//                   (ChooseExpectedLogitOffset), with a tolerance below the reference; the healer
//                   also asks ChooseExpectedScoreBand whether a band of the clean score does better.
// The healer's reference is the deployed model's (version 0) F1 on the same rows, a fixed
// anchor: were it the parent's F1, each heal would choose on its own rows' noise and the
// threshold would ratchet away over many heals (the "slow harm" of docs/DESIGN.md §3).
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

enum class OperatingPoint { kNone, kAccuracyAtF1, kExpectedAccuracyAtF1 };
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

// Calibration of logits against labels: P(y = 1 | logit) = sigmoid(c0 + c1 u + c2 u^2) with u the
// logit standardised over the labelled rows (median and interquartile range, clipped to 4 such
// units, so a model's long-tailed logits do not set the curvature; c2 = 0 for degree 1, Platt scaling). The quadratic
// term lets the probability peak inside the range, as it does when drift leaves the positives in
// a band of the logit rather than at one end. Fitted by Newton's method with a small ridge on c1
// and c2 so that few or separable rows still give finite values. `ok` is false with fewer than
// two usable rows (labels 0/1, finite logits), without both classes, or with constant logits.
struct PlattFit {
  static constexpr double kClip = 4.0;
  bool ok = false;
  double center = 0, scale = 1;  // u = (logit - center) / scale, clipped to +/- kClip
  double coef[3] = {0, 0, 0};
  double Standardise(double logit) const;
  double Probability(double logit) const;
};
PlattFit FitPlatt(const float* logits, const int8_t* labels, size_t n, int degree = 2);

// kExpectedAccuracyAtF1: accuracy_at_f1 on expected counts. A Platt fit on the labelled rows
// turns every row's logit (labelled or not) into a probability; true and false positives of each
// candidate offset are then sums of those probabilities over all `n` rows, so the accuracy/F1
// curve is smooth and the choice does not chase the noise of a few hundred labels. The reference
// is the expected F1 of `reference_flagged` (the rows version 0 flags) minus `f1_tolerance`.
// When the fit fails or its slope is not positive (the logits do not rank the labels), the choice
// is δ = 0. Figures in the result are expected values over the n rows. `degree` is FitPlatt's:
// 2 by default, 1 where the drift is known to move the log odds by a constant (a label shift).
LogitOffsetChoice ChooseExpectedLogitOffset(const float* logits, const int8_t* labels, size_t n,
                                            const uint8_t* reference_flagged, double f1_tolerance, int degree = 2);

// The same choice over bands of a score instead of thresholds. When the calibrated probability
// peaks inside the scores' range (quadratic Platt fit with c2 < 0 and its vertex inside), the
// rows most likely positive are those in a band lo < score < hi, not those above a threshold:
// the likelihood ratio of two classes with unequal spread falls off on both sides. Candidate
// sets are the rows taken in order of calibrated probability; each is one band of the score.
// `ok` is false when the fit fails, the probability does not peak inside the range, or no band
// reaches the reference (reference as in ChooseExpectedLogitOffset). A band that reaches past the
// highest or the lowest score has that edge at +/- infinity. Figures are expected values.
struct ScoreBandChoice {
  bool ok = false;
  double lo = 0, hi = 0;          // flag rows with lo < score < hi
  size_t rows = 0;                // labelled rows the fit used
  double accuracy_after = 0, f1_after = 0, reference_f1 = 0;
  double inside_rate = 0, outside_rate = 0;  // expected fraction of positives in and out of the band
};
ScoreBandChoice ChooseExpectedScoreBand(const float* scores, const int8_t* labels, size_t n,
                                        const uint8_t* reference_flagged, double f1_tolerance);

}  // namespace reflex
