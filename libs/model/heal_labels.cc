// Strategy kLabels (labels, and no closed-form target they confirm), and the cut of
// kLabelShiftCut: labels-driven re-fit from version 0, then the operating point.
//
// The re-fit's few gradient steps (heal_loss.cc) start from version 0, so noise does not pile up
// over a chain of heals. The operating point then places the decision on the labelled training
// rows only, so the holdout that gates and chooses the candidate stays unseen
// (core/operating_point.h, HealPolicy::operating_point):
// - a threshold: one logit offset through the adapter's b2 (model/logit_offset.h), the most
//   accurate whose expected F1 is at most operating_f1_tolerance below version 0's on the same
//   rows (a quadratic Platt calibration for kLabels, degree 1 for a label shift's cut);
// - kLabels only, a band of the clean score (model/score_band.h) when the calibrated probability
//   peaks inside the score's range and the band is more accurate at the same F1 floor.
// Internal to libs/model; thread-compatible. Units: logits in nats, rates in [0, 1].
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/metrics.h"
#include "core/operating_point.h"
#include "model/heal_binary.h"
#include "model/logit_offset.h"
#include "model/score_band.h"

namespace reflex {

void PlaceOperatingPoint(const BinaryHeal& h, HealStrategy strategy, AdapterVersion* candidate_out, HealReport* report) {
  const bool prior_cut = strategy == HealStrategy::kLabelShiftCut;
  const bool labels_only = strategy == HealStrategy::kLabels;
  AdapterVersion& candidate = *candidate_out;
  std::vector<float> train_logits(h.job.n_rows);
  std::vector<int8_t> train_labels(h.job.n_rows, -1);
  {
    torch::NoGradGuard no_grad;
    torch::Tensor logit = h.parts.HeadLogit(AdapterForward(ToTensors(candidate, false), h.r.hidden)).contiguous();
    std::memcpy(train_logits.data(), logit.data_ptr<float>(), sizeof(float) * h.job.n_rows);
  }
  // The F1 to keep: the deployed model's (version 0) on the same rows, a fixed anchor.
  Confusion anchor;
  std::vector<uint8_t> anchor_flagged(h.job.n_rows);
  for (size_t i = 0; i < h.job.n_rows; ++i) {
    anchor_flagged[i] = h.anchor_probs[i] > 0.5f;
    if (h.split.train[i] <= 0) continue;
    train_labels[i] = static_cast<int8_t>(h.y[i]);
    anchor.Add(anchor_flagged[i] != 0, h.y[i] > 0.5f);
  }
  // A label shift moves every row's log odds by one constant, so its calibration is Platt's
  // degree 1; the quadratic term is for drifts that leave the positives in a band.
  const LogitOffsetChoice choice =
      h.policy.operating_point == OperatingPoint::kExpectedAccuracyAtF1
          ? ChooseExpectedLogitOffset(train_logits.data(), train_labels.data(), h.job.n_rows, anchor_flagged.data(),
                                      h.policy.operating_f1_tolerance, prior_cut ? 1 : 2)
          : ChooseLogitOffset(train_logits.data(), train_labels.data(), h.job.n_rows, h.policy.operating_point,
                              anchor.f1() - h.policy.operating_f1_tolerance);
  // The band alternative: on the clean score (the head on the backbone's output, no
  // adapter), the rows in a band, when the calibrated probability peaks inside the range and
  // the band's expected accuracy beats the threshold's at the same F1 floor.
  std::vector<float> scores;
  ScoreBandChoice band;
  // Not under a label shift: there the ranking is right and only the cut moved.
  if (h.policy.operating_point == OperatingPoint::kExpectedAccuracyAtF1 && labels_only) {
    scores.resize(h.job.n_rows);
    {
      torch::NoGradGuard no_grad;
      torch::Tensor s = h.parts.HeadLogit(h.r.hidden).contiguous();
      std::memcpy(scores.data(), s.data_ptr<float>(), sizeof(float) * h.job.n_rows);
    }
    band = ChooseExpectedScoreBand(scores.data(), train_labels.data(), h.job.n_rows, anchor_flagged.data(),
                                   h.policy.operating_f1_tolerance);
  }
  const bool threshold_meets = choice.f1_after >= choice.reference_f1 && choice.rows > 0;
  if (band.ok && (!threshold_meets || band.accuracy_after > choice.accuracy_after)) {
    Result<std::vector<float>> w = HeadDirection(h.model, h.view);
    Result<double> bias = w.ok() ? HeadBias(h.model, h.view, *w) : Result<double>(w.status());
    Result<AdapterVersion> banded = Status::Internal("unset");
    if (bias.ok()) {
      const auto [lo_it, hi_it] = std::minmax_element(scores.begin(), scores.end());
      ScoreBand sb;
      sb.lo = band.lo;
      sb.hi = band.hi;
      sb.score_min = *lo_it;
      sb.score_max = *hi_it;
      // Each side's logit is what the weighted label loss would fit to its expected positive
      // rate, pushed just across zero where needed so that the band is what is flagged.
      auto weighted_logit = [&](double rate) {
        rate = std::clamp(rate, 1e-3, 1.0 - 1e-3);
        return std::log(h.pos_weight * rate / (1.0 - rate));
      };
      sb.inside = std::max(weighted_logit(band.inside_rate), 0.1);
      sb.outside = std::min(weighted_logit(band.outside_rate), -0.1);
      banded = BandAdapter(candidate, *w, *bias, sb);
    } else {
      banded = bias.status();
    }
    if (banded.ok()) {
      candidate = std::move(*banded);
      report->operating_point_note = "operating point: clean-score band (" + std::to_string(band.lo) + ", " +
                                    std::to_string(band.hi) + "), expected accuracy " + std::to_string(band.accuracy_after) +
                                    " at F1 " + std::to_string(band.f1_after);
    } else {
      report->operating_point_note = "operating point band skipped: " + banded.status().message();
    }
  } else if (choice.offset != 0) {
    Result<std::vector<float>> w = HeadDirection(h.model, h.view);
    Result<AdapterVersion> shifted = w.ok() ? ShiftLogits(candidate, *w, choice.offset) : Result<AdapterVersion>(w.status());
    if (shifted.ok()) {
      candidate = std::move(*shifted);
      report->logit_offset = choice.offset;
    } else {
      report->operating_point_note = "operating point skipped: " + shifted.status().message();
    }
  }
}

}  // namespace reflex
