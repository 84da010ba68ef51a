#include "core/validation_gate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reflex {

namespace {
std::string Fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}
}  // namespace

RateBounds PositiveRateBounds(const RateEvidence& ev, const GatePolicy& policy) {
  RateBounds b;
  const bool labelled = ev.labelled_prior.has_value() && ev.labelled_rows > 0;
  if (labelled) {
    b.expected = *ev.labelled_prior;
    b.basis = "labelled prior";
  } else if (ev.estimated_prior) {
    b.expected = *ev.estimated_prior;
    b.basis = "estimated prior";
  } else {
    b.expected = ev.clean_rate;
    b.basis = "clean rate";
  }
  const double e = std::clamp(b.expected, 0.0, 1.0);
  double inverse_rows = 0;
  if (ev.measured_rows > 0) inverse_rows += 1.0 / static_cast<double>(ev.measured_rows);
  if (labelled) inverse_rows += 1.0 / static_cast<double>(ev.labelled_rows);
  const double noise = policy.confidence_z * std::sqrt(e * (1 - e) * inverse_rows);
  const double tol = policy.positive_rate_tolerance;
  if (labelled) {
    b.lo = e - tol * e - noise;
    b.hi = e + tol * (1 - e) + noise;
  } else {
    const double a = tol * std::min(e, 1 - e);
    b.lo = e - a - noise;
    b.hi = e + a + noise;
  }
  b.lo = std::clamp(b.lo, 0.0, 1.0);
  b.hi = std::clamp(b.hi, 0.0, 1.0);
  return b;
}

GateVerdict ValidateCandidate(const GateInputs& in, const GatePolicy& policy) {
  GateVerdict v;
  if (!in.finite) {
    v.reason = "rejected: non-finite loss or weight";
    return v;
  }
  if (in.multiclass) {
    if (in.candidate_class_tv > policy.max_class_tv && in.candidate_class_tv > in.current_class_tv + 1e-9) {
      v.reason = Fmt("rejected: predicted-class distribution is %.3f (total variation) from the clean one, limit %.3f, "
                     "current version %.3f", in.candidate_class_tv, policy.max_class_tv, in.current_class_tv);
      return v;
    }
  }
  const double rate = in.candidate_positive_rate;
  const RateBounds bounds = PositiveRateBounds(in.evidence, policy);
  auto outside = [&](double r) { return std::max({0.0, bounds.lo - r, r - bounds.hi}); };
  // A labelled candidate strictly closer to the bounds than the current version repairs; the
  // held-out labels judge it. A label-free one must stay inside.
  if (!in.multiclass && outside(rate) > 0 &&
      !(in.labelled && in.current_positive_rate && outside(rate) < outside(*in.current_positive_rate) - 1e-9)) {
    v.reason = Fmt("rejected: positive rate %.3f outside [%.3f, %.3f]", rate, bounds.lo, bounds.hi) + " (around the " +
               bounds.basis + Fmt(" %.3f)", bounds.expected);
    if (in.labelled && in.current_positive_rate) v.reason += Fmt(" and not closer to it than the current %.3f", *in.current_positive_rate);
    return v;
  }
  if (in.candidate_moment_distance && in.current_moment_distance &&
      *in.candidate_moment_distance > *in.current_moment_distance * policy.max_moment_ratio + 1e-9) {
    v.reason = Fmt("rejected: moment distance %.4f worse than current %.4f (limit x%.2f)",
                   *in.candidate_moment_distance, *in.current_moment_distance, policy.max_moment_ratio);
    return v;
  }
  if (in.candidate_rule_agreement && in.current_rule_agreement &&
      *in.candidate_rule_agreement < *in.current_rule_agreement - policy.max_rule_agreement_drop) {
    v.reason = Fmt("rejected: trusted-rule agreement %.3f dropped from %.3f (limit %.2f)",
                   *in.candidate_rule_agreement, *in.current_rule_agreement, policy.max_rule_agreement_drop);
    return v;
  }
  if (in.candidate_label_loss && in.current_label_loss &&
      *in.candidate_label_loss > *in.current_label_loss * policy.max_label_loss_ratio + 1e-9) {
    v.reason = Fmt("rejected: held-out labelled loss %.4f worse than current %.4f (limit x%.2f)",
                   *in.candidate_label_loss, *in.current_label_loss, policy.max_label_loss_ratio);
    return v;
  }
  v.accept = true;
  v.reason = in.multiclass ? Fmt("accepted: predicted-class distribution %.3f from the clean one (current %.3f)",
                                 in.candidate_class_tv, in.current_class_tv)
                           : Fmt("accepted: positive rate %.3f in [%.3f, ", rate, bounds.lo) +
                                 Fmt("%.3f] (expected %.3f)", bounds.hi, bounds.expected);
  if (in.candidate_label_loss && in.current_label_loss) {
    v.reason += Fmt(", held-out loss %.4f vs %.4f", *in.candidate_label_loss, *in.current_label_loss);
  }
  return v;
}

}  // namespace reflex
