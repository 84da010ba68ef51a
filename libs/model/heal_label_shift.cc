// Label shift: the class-conditional inputs did not move, only the class balance did.
//
// - Strategy kPriorTarget (no labels): the target is version 0's posteriors corrected to the
//   diagnosed new prior (Saerens et al.; core/label_shift.h), distilled into the adapter.
// - Strategy kLabelShiftCut (labels): version 0's ranking of the rows is still the one to keep;
//   only where it cuts has moved. Rather than distil the prior-corrected posterior (which assumes
//   version 0 is calibrated on the new data, and it need not be: on `prior` its logits are about
//   twice too steep) and keep that target's cut, the candidate is version 0 exactly and the
//   operating point (heal_labels.cc, Platt degree 1: a label shift moves every row's log odds by
//   one constant) places the cut from the labels. No gradient step.
// Internal to libs/model; thread-compatible. Units: probabilities in [0, 1].
#include "core/label_shift.h"
#include "model/heal_binary.h"

namespace reflex {

HealTarget PriorCorrectedTarget(const BinaryHeal& h) {
  torch::NoGradGuard no_grad;
  HealTarget t;
  std::vector<float> p(h.job.n_rows);
  for (size_t i = 0; i < h.job.n_rows; ++i) {
    p[i] = static_cast<float>(AdjustPosterior(h.anchor_probs[i], h.cal.clean.train_prior, h.diag->prior));
  }
  t.prob = torch::tensor(p);
  return t;
}

}  // namespace reflex
