#include "model/heal_loss.h"

#include "core/shift_diagnosis.h"
#include "model/heal_step.h"

namespace reflex {

torch::Tensor WeightedLabelLoss(const torch::Tensor& logit, const torch::Tensor& labels, const torch::Tensor& mask,
                                double pos_weight) {
  torch::Tensor per_row = torch::binary_cross_entropy_with_logits(
      logit, labels, {}, torch::full({1}, pos_weight, logit.options()), at::Reduction::None);
  return (per_row * mask).sum() / mask.sum().clamp_min(1.0);
}

torch::Tensor MomentLoss(const torch::Tensor& out, const torch::Tensor& clean_mean, const torch::Tensor& clean_var) {
  torch::Tensor v = clean_var.clamp_min(1e-6);
  return ((out.mean(0) - clean_mean).pow(2) / v + torch::log((out.var(0, false) + 1e-6) / v).pow(2)).mean();
}

torch::Tensor ProximalLoss(const AdapterTensors& now_t, const AdapterTensors& was_t, const torch::TensorOptions& options) {
  torch::Tensor prox = torch::zeros({}, options);
  std::vector<torch::Tensor> now = now_t.list(), was = was_t.list();
  for (size_t i = 0; i < now.size(); ++i) prox = prox + (now[i] - was[i]).pow(2).sum();
  return prox;
}

double MomentDistance(const torch::Tensor& out, const torch::Tensor& clean_mean, const torch::Tensor& clean_var) {
  torch::Tensor mean = out.mean(0), sd = out.var(0, false).sqrt();
  torch::Tensor d = (mean - clean_mean).pow(2) + (sd - clean_var.sqrt()).pow(2);
  return (d.mean() / clean_var.mean().clamp_min(1e-12)).item<double>();
}

LoopHead::LoopHead(const HealableModel::Parts& parts, torch::Device device) : parts_(parts), device_(device) {
  if (!device_.is_cuda()) return;
  if (parts_.torchscript) {
    ts_ = std::make_shared<torch::jit::Module>(parts_.ts_head->clone());
    ts_->to(device_);
  } else {
    w_ = parts_.mlp_head->weight.detach().to(device_);
    b_ = parts_.mlp_head->bias.detach().to(device_);
  }
}

torch::Tensor LoopHead::operator()(const torch::Tensor& h) const {
  if (!device_.is_cuda()) return parts_.HeadLogit(h);
  torch::Tensor out = ts_ ? ts_->forward({h}).toTensor() : torch::linear(h, w_, b_);
  out = out.reshape({-1});
  if (parts_.head_outputs_probability) out = torch::logit(out, 1e-6);
  return out;
}

AdapterTensors OptimiseBinaryAdapter(const BinaryHeal& h, HealStrategy strategy, const HealTarget& target,
                                     HealReport* report, bool* finite) {
  const HealPolicy& policy = h.policy;
  const bool distill = Distils(strategy);
  const int steps = strategy == HealStrategy::kLabelShiftCut ? 0 : distill ? policy.distill_steps : policy.steps;
  const double lr = distill ? policy.distill_lr : policy.lr;
  const double w_distill = policy.w_distill;

  auto on = [&](const torch::Tensor& t) { return t.defined() ? t.to(h.device) : t; };
  const LoopHead head(h.parts, h.device);
  const torch::Tensor hidden_d = on(h.r.hidden), labels_d = on(h.r.labels), train_d = on(h.r.train_mask);
  const torch::Tensor weak_labels_d = on(h.r.weak_labels), weak_mask_d = on(h.r.weak_mask);
  const torch::Tensor target_prob_d = on(target.prob), target_logit_d = on(target.logit), target_out_d = on(target.out);
  const torch::Tensor synth_hidden_d = on(target.synth_hidden), synth_logit_d = on(target.synth_logit);
  const torch::Tensor synth_out_d = on(target.synth_out), synth_labels_d = on(target.synth_labels);
  // A labels-only heal re-fits from version 0 rather than from the parent: its few gradient steps
  // on a few hundred labels are noise as much as signal, and over a chain of heals that noise
  // accumulates in the ranking. The parent is still recorded as the parent.
  const bool from_anchor = StartsFromVersion0(strategy);
  const AdapterTensors& start = from_anchor ? h.anchor : h.parent;
  const AdapterTensors start_d{on(start.w1), on(start.b1), on(start.w2), on(start.b2), on(start.scale)};
  AdapterTensors adapter = ToTensors(from_anchor ? h.model.initial_adapter() : h.job.base, false);
  for (torch::Tensor* t : {&adapter.w1, &adapter.b1, &adapter.w2, &adapter.b2, &adapter.scale}) {
    *t = t->to(h.device).detach().requires_grad_(true);
  }
  std::vector<torch::Tensor> params = adapter.list();
  torch::optim::Adam opt(params, torch::optim::AdamOptions(lr));
  torch::Tensor clean_mean = torch::tensor(std::vector<float>(h.cal.output_mean.begin(), h.cal.output_mean.end()));
  torch::Tensor clean_var = torch::tensor(std::vector<float>(h.cal.output_var.begin(), h.cal.output_var.end()));
  const torch::Tensor clean_mean_d = on(clean_mean), clean_var_d = on(clean_var);
  const bool moments = policy.w_moment > 0 && report->diagnosis.kind != ShiftKind::kLabel;
  for (int step = 0; step < steps; ++step) {
    torch::Tensor out = AdapterForward(adapter, hidden_d);
    torch::Tensor logit = head(out);
    torch::Tensor loss = torch::zeros({}, hidden_d.options());
    if (distill && target_prob_d.defined()) loss = loss + w_distill * torch::binary_cross_entropy_with_logits(logit, target_prob_d);
    if (distill && target_logit_d.defined()) {
      // Regression toward the aligned representation and the logits it leads to.
      loss = loss + w_distill * ((logit - target_logit_d).pow(2).mean() + (out - target_out_d).pow(2).mean());
      if (synth_hidden_d.defined()) {
        torch::Tensor so = AdapterForward(adapter, synth_hidden_d);
        loss = loss + w_distill * policy.w_synthetic *
                          ((head(so) - synth_logit_d).pow(2).mean() + (so - synth_out_d).pow(2).mean());
      }
    }
    if (h.labelled && policy.w_label > 0) {
      loss = loss + policy.w_label * WeightedLabelLoss(logit, labels_d, train_d, h.pos_weight);
      if (synth_hidden_d.defined() && distill) {
        // Labels confirmed the alignment: the inverse-aligned clean sample is labelled drifted data.
        loss = loss + policy.w_label * policy.w_synthetic *
                          torch::binary_cross_entropy_with_logits(head(AdapterForward(adapter, synth_hidden_d)), synth_labels_d);
      }
    }
    if (h.have_weak) {
      torch::Tensor per_row = torch::binary_cross_entropy_with_logits(logit, weak_labels_d, {}, {}, at::Reduction::None);
      loss = loss + policy.w_rule * (per_row * weak_mask_d).sum() / weak_mask_d.sum();
    }
    if (policy.w_entropy > 0) {
      torch::Tensor p = torch::sigmoid(logit).clamp(1e-6, 1 - 1e-6);
      torch::Tensor ent = -(p * torch::log(p) + (1 - p) * torch::log(1 - p));
      torch::Tensor keep = (ent < policy.entropy_filter).to(torch::kFloat32).detach();
      loss = loss + policy.w_entropy * (ent * keep).sum() / keep.sum().clamp_min(1.0);
    }
    if (moments) loss = loss + policy.w_moment * MomentLoss(out, clean_mean_d, clean_var_d);
    if (policy.w_proximal > 0) loss = loss + policy.w_proximal * ProximalLoss(adapter, start_d, hidden_d.options());
    if (!TakeHealStep(loss, opt, step, h.job, *report)) { *finite = false; break; }
  }
  return adapter;
}

}  // namespace reflex
