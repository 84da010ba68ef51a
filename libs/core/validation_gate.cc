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

GateVerdict ValidateCandidate(const GateInputs& in, const HealPolicy& policy) {
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
  // Labels show the real prior: a labelled heal may flag up to 1.5x of it even above the cap.
  const double max_rate = in.labelled ? std::max(policy.max_positive_rate, 1.5 * in.labelled_prior)
                                      : policy.max_positive_rate;
  auto outside = [&](double r) { return std::max({0.0, policy.min_positive_rate - r, r - max_rate}); };
  if (!in.multiclass && outside(rate) > 0 &&
      !(in.labelled && in.current_positive_rate && outside(rate) < outside(*in.current_positive_rate) - 1e-9)) {
    v.reason = Fmt("rejected: positive rate %.3f outside [%.3f, %.3f]", rate, policy.min_positive_rate, max_rate);
    if (in.labelled && in.current_positive_rate) v.reason += Fmt(" and not closer to it than the current %.3f", *in.current_positive_rate);
    return v;
  }
  if (!in.labelled && !in.multiclass) {
    double allowed = std::max(0.05, policy.positive_rate_tolerance * in.expected_positive_rate);
    if (std::fabs(rate - in.expected_positive_rate) > allowed) {
      v.reason = Fmt("rejected: positive rate %.3f is more than %.3f from the expected %.3f", rate, allowed,
                     in.expected_positive_rate);
      return v;
    }
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
                           : Fmt("accepted: positive rate %.3f (expected %.3f)", rate, in.expected_positive_rate);
  if (in.candidate_label_loss && in.current_label_loss) {
    v.reason += Fmt(", held-out loss %.4f vs %.4f", *in.candidate_label_loss, *in.current_label_loss);
  }
  return v;
}

}  // namespace reflex
