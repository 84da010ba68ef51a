// Score band: an adapter that flags the rows whose clean score lies in a band.
//
// The clean score of a row is s(x) = w·x + c, the logit the head gives the backbone's output x
// with no adapter at all (w, c: the affine head's direction and bias). When drift leaves the
// positives in a band of that score rather than at one end of it (core/operating_point.h,
// ChooseExpectedScoreBand), no offset of a monotone logit can flag them; three tanh units of the
// adapter can:
//   t0 = tanh(k (s - lo)),  t1 = tanh(k (hi - s)),  t2 = tanh(e (s - m)) ≈ e (s - m)
//   logit = s + g (t0 + t1) - t2 / e + outside - m  ≈  inside in the band, outside elsewhere,
// with g = (inside - outside) / 2,
// with W2 columns along w/|w|² so each unit moves only the logit. t2 cancels the residual path's
// own score (e small enough that tanh is linear to 0.4% over twice the scores' range around m);
// k makes each edge 2% of the band wide. The other hidden units are zero, scale is 1, and an
// infinite edge is a unit held at +1. Nothing of the previous adapter is kept: the band replaces
// it, and the validation gate judges the result like any candidate.
//
// Ownership: returns a new value. Thread-safety: pure function. Units: scores, inside and outside in logits.
#pragma once

#include <vector>

#include "core/adapter_version.h"
#include "core/status.h"

namespace reflex {

struct ScoreBand {
  double lo = 0, hi = 0;                 // flag lo < s < hi; one edge may be infinite
  double score_min = 0, score_max = 0;   // range of the scores the band was chosen on
  double inside = 1.0, outside = -1.0;   // logits in the band (> 0) and elsewhere (< 0)
};

// An adapter of `dims` (hidden >= 3) with version, parent and epoch of `like`, Seal()ed.
// InvalidArgument: hidden < 3, a width mismatch, |w| = 0, both edges infinite, lo >= hi, or a
// non-finite value, or not inside > 0 > outside.
Result<AdapterVersion> BandAdapter(const AdapterVersion& like, const std::vector<float>& head_direction, double head_bias,
                                   const ScoreBand& band);

}  // namespace reflex
