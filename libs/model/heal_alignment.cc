// Strategy kAlignment (covariate drift): the closed-form alignment, distilled into the adapter.
//
// The diagnosis re-standardises each drifted feature to its clean calibration moments
// (core/shift_diagnosis.h). The target is what version 0 outputs on the aligned rows: the
// adapter output and logit of the clean model's decision, rebuilt on drifted inputs. When the
// calibration keeps a clean sample, its rows mapped back through the inverse alignment are
// synthetic drifted rows with exact targets (and labels, used when the labels confirmed the
// alignment). With labels the strategy is taken only when the labels confirm the alignment.
// Internal to libs/model; thread-compatible (reads the heal's state only). Units: input units.
#include "model/heal_binary.h"

namespace reflex {

HealTarget AlignmentTarget(const BinaryHeal& h) {
  torch::NoGradGuard no_grad;
  HealTarget t;
  const ShiftDiagnosis& diag = *h.diag;
  const HealJob& job = h.job;
  const size_t dims = h.dims;
  std::vector<float> aligned = job.rows;
  diag.alignment.Apply(aligned.data(), job.n_rows, dims);
  torch::Tensor xa = torch::from_blob(aligned.data(), {static_cast<int64_t>(job.n_rows), static_cast<int64_t>(dims)}).clone();
  t.out = AdapterForward(h.anchor, h.parts.Backbone(xa)).detach();
  t.logit = h.parts.HeadLogit(t.out).detach();
  if (h.cal.clean_sample_rows > 0 && h.policy.w_synthetic > 0) {
    std::vector<float> drifted = h.cal.clean_sample;
    const FeatureAlignment& a = diag.alignment;
    for (size_t row = 0; row < h.cal.clean_sample_rows; ++row) {
      for (size_t i = 0; i < a.features.size(); ++i) {
        float& v = drifted[row * dims + a.features[i]];
        v = static_cast<float>((v - a.offset[i]) / a.scale[i]);
      }
    }
    const auto n = static_cast<int64_t>(h.cal.clean_sample_rows), d = static_cast<int64_t>(dims);
    torch::Tensor clean_x = torch::from_blob(const_cast<float*>(h.cal.clean_sample.data()), {n, d}).clone();
    t.synth_hidden = h.parts.Backbone(torch::from_blob(drifted.data(), {n, d}).clone()).detach();
    t.synth_out = AdapterForward(h.anchor, h.parts.Backbone(clean_x)).detach();
    t.synth_logit = h.parts.HeadLogit(t.synth_out).detach();
    t.synth_labels = torch::tensor(std::vector<float>(h.cal.clean_sample_labels.begin(), h.cal.clean_sample_labels.end()));
  }
  return t;
}

}  // namespace reflex
