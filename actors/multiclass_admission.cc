#include "actors/multiclass_admission.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/validation_gate.h"

namespace reflex::actors {

double PredictedClassTv(const float* probs, size_t n, size_t k, const std::vector<double>& clean) {
  if (n == 0 || k == 0) return 0;
  std::vector<double> rate(k, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const float* p = probs + i * k;
    rate[static_cast<size_t>(std::max_element(p, p + k) - p)] += 1.0 / static_cast<double>(n);
  }
  double tv = 0;
  for (size_t c = 0; c < k; ++c) tv += std::abs(rate[c] - (c < clean.size() ? clean[c] : 0.0));
  return 0.5 * tv;
}

Admission AdmitMulticlassCandidate(const HealableModel& model, const std::vector<double>& clean_class_rate,
                                   const AdapterVersion& candidate, const AdapterVersion& parent,
                                   const std::vector<float>& rows, const HealPolicy& policy,
                                   const std::map<std::string, double>& healer_metrics) {
  Admission a;
  Status intact = candidate.Verify();
  if (!intact.ok()) {
    a.reason = "candidate damaged: " + intact.message();
    return a;
  }
  if (!(candidate.dims == parent.dims)) {
    a.reason = "candidate dims differ from its parent's";
    return a;
  }
  const size_t cols = model.input_dims(), k = model.outputs_per_row();
  const size_t n = cols ? rows.size() / cols : 0;
  if (n == 0) {
    a.reason = "no rows to check the candidate on";
    return a;
  }
  auto tv = [&](const AdapterVersion& v) -> Result<double> {
    auto probs = model.Score(v, BatchView{rows.data(), n, cols});
    if (!probs.ok()) return probs.status();
    if (probs->size() != n * k) return Status::Internal("the model wrote " + std::to_string(probs->size()) + " outputs");
    return PredictedClassTv(probs->data(), n, k, clean_class_rate);
  };
  Result<double> measured = tv(candidate), current = tv(parent);
  if (!measured.ok() || !current.ok()) {
    a.reason = "scoring failed: " + (measured.ok() ? current.status() : measured.status()).message();
    return a;
  }
  a.positive_rate = *measured;
  char buf[200];
  const auto reported = healer_metrics.find("class_tv");
  const auto aligned = healer_metrics.find("aligned");
  const bool comparable = aligned == healer_metrics.end() || aligned->second == 0;
  if (comparable && (reported == healer_metrics.end() || !(std::abs(*measured - reported->second) <= 0.02))) {
    std::snprintf(buf, sizeof buf, "measured class TV %.3f differs from the healer's %.3f", *measured,
                  reported == healer_metrics.end() ? NAN : reported->second);
    a.reason = buf;
    return a;
  }
  GateInputs gate;
  gate.finite = true;
  gate.multiclass = true;
  const auto labelled = healer_metrics.find("labelled_rows");
  gate.labelled = labelled != healer_metrics.end() && labelled->second > 0;
  gate.candidate_class_tv = *measured;
  gate.current_class_tv = *current;
  const GateVerdict verdict = ValidateCandidate(gate, policy);
  a.admitted = verdict.accept;
  std::snprintf(buf, sizeof buf, " (coordinator: class TV %.3f, parent %.3f over %zu rows)", *measured, *current, n);
  a.reason = (verdict.accept ? "admitted: " : "") + verdict.reason + buf;
  return a;
}

}  // namespace reflex::actors
