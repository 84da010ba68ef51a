// The multi-class heal: see HealMulticlass in healer.h. Shares the holdout split
// (core/holdout_split.h), the moment and proximal terms and the moment distance (heal_loss.h)
// and the gate (core/validation_gate.h) with the binary heal. Thread-compatible: each heal owns
// its tensors; the model and calibration are only read.
#include <chrono>
#include <cmath>

#include "core/class_rule_trust.h"
#include "core/holdout_split.h"
#include "core/validation_gate.h"
#include "model/healer.h"
#include "model/input_alignment.h"
#include "model/heal_loss.h"
#include "model/heal_step.h"
#include "model/model_parts.h"

namespace reflex {

namespace {

torch::Tensor DoubleTensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat64).to(torch::kFloat32);
}

// Total variation distance between the argmax class histogram of `logits` and `reference`.
double ClassTv(const torch::Tensor& logits, const torch::Tensor& reference) {
  const int64_t k = logits.size(1);
  torch::Tensor rate = torch::bincount(logits.argmax(1), {}, k).to(torch::kFloat32) / static_cast<float>(logits.size(0));
  return 0.5 * (rate - reference).abs().sum().item<double>();
}

bool IsIdentity(const AdapterTensors& a) {
  return a.w2.abs().max().item<float>() == 0.0f && a.b2.abs().max().item<float>() == 0.0f;
}

}  // namespace

Result<HealOutcome> HealMulticlass(const HealableModel& model, const HealCalibration& cal, const HealJob& job) {
  const auto started = std::chrono::steady_clock::now();
  const HealableModel::Parts& parts = model.parts();
  const size_t dims = model.input_dims();
  const size_t width = model.adapter_dims().width;
  const int64_t k = parts.spec.num_classes;
  const size_t n = job.n_rows;
  const bool have_hidden = !job.hidden.empty();
  if (n < 2 || (have_hidden ? job.hidden.size() != n * width : job.rows.size() != n * dims)) {
    return Status::InvalidArgument("heal job: " + std::to_string(have_hidden ? job.hidden.size() : job.rows.size()) +
                                   " values for " + std::to_string(n) + " rows of " +
                                   std::to_string(have_hidden ? width : dims) + (have_hidden ? " backbone outputs" : " features") +
                                   " (need at least 2 rows)");
  }
  if (!job.labels.empty() && job.labels.size() != n) {
    return Status::InvalidArgument("heal job: " + std::to_string(job.labels.size()) + " labels for " + std::to_string(n) + " rows");
  }
  if (job.base.dims != model.adapter_dims()) return Status::InvalidArgument("heal job: base adapter dims do not match the model");
  if (cal.class_rate.size() != static_cast<size_t>(k) || cal.hidden_mean.size() != width) {
    return Status::InvalidArgument("heal job: the calibration is not of this multi-class model");
  }
  const bool have_rules = job.rules != nullptr && !job.rules->empty();
  if (have_rules) {
    if (job.rules->class_names().size() != static_cast<size_t>(k) || job.rules->dims() != dims) {
      return Status::InvalidArgument("heal job: the rules are over " + std::to_string(job.rules->dims()) + " features and " +
                                     std::to_string(job.rules->class_names().size()) + " classes, the model has " +
                                     std::to_string(dims) + " features and " + std::to_string(k) + " classes");
    }
    if (job.rows.size() != n * dims) {
      return Status::InvalidArgument("heal job: class rules need the rows' features (" + std::to_string(n * dims) +
                                     " values), the job has " + std::to_string(job.rows.size()));
    }
  }
  if (have_hidden && !job.rows.empty() && job.rows.size() != n * dims) {
    return Status::InvalidArgument("heal job: " + std::to_string(job.rows.size()) + " feature values for " +
                                   std::to_string(n) + " rows of " + std::to_string(dims));
  }
  REFLEX_RETURN_IF_ERROR(job.base.Verify().WithContext("heal job base adapter"));

  HealOutcome outcome;
  HealReport& report = outcome.report;
  report.num_classes = static_cast<uint32_t>(k);
  report.diagnosis.kind = ShiftKind::kCovariate;
  report.diagnosis.explanation = "multi-class: covariate re-standardisation of the backbone output";
  const HealPolicy& policy = job.policy;
  try {
    const AdapterTensors anchor = ToTensors(model.initial_adapter(), false);
    const AdapterTensors parent = ToTensors(job.base, false);
    auto backbone = [&](const torch::Tensor& x) {
      std::vector<torch::Tensor> chunks;
      for (int64_t start = 0; start < x.size(0); start += 1000) chunks.push_back(parts.Backbone(x.slice(0, start, start + 1000)));
      return torch::cat(chunks).detach();
    };
    torch::Tensor h;
    {
      torch::NoGradGuard no_grad;
      h = have_hidden ? torch::from_blob(const_cast<float*>(job.hidden.data()), {static_cast<int64_t>(n), static_cast<int64_t>(width)}).clone()
                      : backbone(BatchTensor({job.rows.data(), n, dims}));
    }
    // Labelled rows, split into train and holdout (core/holdout_split.h): a row's side follows a
    // hash of its values and the job's seed, so it stays on the same side in every heal of a
    // stream and the gate never judges the current version on rows it was trained on.
    const HoldoutSplit split =
        SplitLabelledRows(job.labels.empty() ? nullptr : job.labels.data(), n, static_cast<int>(k),
                          have_hidden ? job.hidden.data() : job.rows.data(), have_hidden ? width : dims, job.seed,
                          policy.holdout_fraction);
    std::vector<int64_t> y(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (split.train[i] > 0 || split.holdout[i] > 0) y[i] = job.labels[i];
    }
    report.labelled_rows = split.labelled;
    const std::vector<float>& train_mask = split.train;
    const std::vector<float>& hold_mask = split.holdout;
    const bool labelled = report.labelled_rows >= 10;
    torch::Tensor labels = torch::tensor(y, torch::kLong);
    torch::Tensor tmask = torch::tensor(train_mask), hmask = torch::tensor(hold_mask);
    if (labelled && hmask.sum().item<float>() < 5) hmask = tmask;
    auto label_loss = [&](const torch::Tensor& logits, const torch::Tensor& mask) {
      torch::Tensor per_row = torch::nn::functional::cross_entropy(
          logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
      return (per_row * mask).sum() / mask.sum().clamp_min(1.0);
    };

    // Weak class labels from the class rules the job's evidence still trusts.
    torch::Tensor weak_labels, weak_mask;
    bool have_weak = false;
    if (have_rules) {
      auto trust = TrustClassRules(*job.rules, job.rows.data(), n, job.labels.empty() ? nullptr : job.labels.data(),
                                   cal.rule_fire, policy.rule_trust_tolerance);
      if (!trust.ok()) return trust.status();
      report.trusted_rules = trust->trusted_rules;
      report.distrusted_rules = trust->distrusted_rules;
      std::vector<int64_t> wl(n, 0);
      std::vector<float> wm(n, 0.0f);
      for (size_t i = 0; i < n; ++i) {
        if (trust->labels[i] >= 0) { wl[i] = trust->labels[i]; wm[i] = 1.0f; }
      }
      weak_labels = torch::tensor(wl, torch::kLong);
      weak_mask = torch::tensor(wm);
      have_weak = trust->weak_rows > 0 && policy.w_rule > 0;
    }
    auto weak_loss = [&](const torch::Tensor& logits) {
      torch::Tensor per_row = torch::nn::functional::cross_entropy(
          logits, weak_labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
      return (per_row * weak_mask).sum() / weak_mask.sum().clamp_min(1.0);
    };
    auto weak_agreement = [&](const torch::Tensor& logits) {
      torch::Tensor agree = (logits.argmax(1) == weak_labels).to(torch::kFloat32);
      return ((agree * weak_mask).sum() / weak_mask.sum().clamp_min(1.0)).item<double>();
    };

    const torch::Tensor clean_rate = DoubleTensor(cal.class_rate);
    const torch::Tensor clean_mean = DoubleTensor(cal.output_mean), clean_var = DoubleTensor(cal.output_var);
    const torch::Tensor hidden_mean = DoubleTensor(cal.hidden_mean), hidden_sd = DoubleTensor(cal.hidden_var).sqrt();

    // (1) Closed-form target: per-dimension re-standardisation of the backbone output, of the
    // input-aligned images when the policy asks for it (input_alignment.h).
    AdapterTensors init = parent;
    torch::Tensor target_out, target_logits;
    const bool align = policy.w_distill > 0;
    double distill_weight = policy.w_distill;
    if (align) {
      torch::NoGradGuard no_grad;
      auto restandardise = [&](const torch::Tensor& x, torch::Tensor* a, torch::Tensor* c) {
        torch::Tensor m = x.mean(0), s = x.var(0, false).sqrt().clamp_min(1e-3);
        *a = torch::where(hidden_sd < 1e-6, torch::zeros_like(s), (hidden_sd / s).clamp(0.05, 20.0));
        *c = hidden_mean - *a * m;
      };
      torch::Tensor a, c, m = h.mean(0), s = h.var(0, false).sqrt().clamp_min(1e-3);
      restandardise(h, &a, &c);
      torch::Tensor source = h;
      if (policy.align_inputs && parts.spec.image_height > 0 && !job.rows.empty() && cal.row_sd > 0) {
        torch::Tensor x = BatchTensor({job.rows.data(), n, dims});
        const uint32_t ih = parts.spec.image_height, iw = parts.spec.image_width;
        const InputAlignment fit = FitInputAlignment(x, cal, ih, iw, policy.recentre_factor);
        source = backbone(ApplyInputAlignment(x, fit, ih, iw));
        report.diagnosis.explanation = "multi-class: image intensity re-standardised (scale " + std::to_string(fit.scale) +
                                       ", offset " + std::to_string(fit.offset) + ")" +
                                       (fit.recentre ? ", images re-centred (centroid spread " + std::to_string(fit.spread) +
                                                           " px, clean " + std::to_string(cal.centre_spread) + " px)"
                                                     : std::string()) +
                                       ", then the backbone output";
      }
      torch::Tensor ta, tc;
      restandardise(source, &ta, &tc);
      target_out = AdapterForward(anchor, ta * source + tc);
      target_logits = parts.HeadLogits(target_out);
      if (!IsIdentity(parent)) {
        init = parent;  // continue from the last accepted heal
      } else if (IsIdentity(anchor) && anchor.w1.size(0) == static_cast<int64_t>(width)) {
        // Exact embedding of y = a*h + c in the adapter's shape (tanh in its linear range).
        const double eps = 0.1;
        const float scale = anchor.scale.item<float>();
        init.w1 = torch::diag(eps / s);
        init.b1 = -eps * m / s;
        init.w2 = torch::diag((a - 1) * s / (scale * eps));
        init.b2 = hidden_mean - m;
        init.scale = anchor.scale.clone();
      } else {
        init = anchor;
      }
      report.aligned = true;
      // With labels the target must earn its weight: scale it by its accuracy on the labelled
      // training rows squared (a target the labels contradict, e.g. under a translation, fades).
      if (labelled) {
        torch::Tensor right = (target_logits.argmax(1) == labels).to(torch::kFloat32);
        const double accuracy = ((right * tmask).sum() / tmask.sum().clamp_min(1.0)).item<double>();
        distill_weight *= accuracy * accuracy;
      }
    }
    AdapterTensors adapter;
    {
      std::vector<torch::Tensor> from = init.list();
      std::vector<torch::Tensor*> to = {&adapter.w1, &adapter.b1, &adapter.w2, &adapter.b2, &adapter.scale};
      for (size_t i = 0; i < from.size(); ++i) *to[i] = from[i].detach().clone().contiguous().set_requires_grad(true);
    }
    const int steps = align ? policy.distill_steps : policy.steps;
    // A heal that continues from the last accepted one takes smaller steps: Adam's first steps
    // move every weight by about the learning rate, which knocked good adapters into collapse.
    const bool continuing = align && !IsIdentity(parent);
    const double lr = align ? policy.distill_lr / (continuing ? 3.0 : 1.0) : policy.lr;
    std::vector<torch::Tensor> params = adapter.list();
    torch::optim::Adam opt(params, torch::optim::AdamOptions(lr));
    bool finite = true;
    for (int step = 0; step < steps; ++step) {
      torch::Tensor out = AdapterForward(adapter, h);
      torch::Tensor logits = parts.HeadLogits(out);
      torch::Tensor loss = torch::zeros({});
      if (align) loss = loss + distill_weight * ((out - target_out).pow(2).mean() + (logits - target_logits).pow(2).mean());
      if (labelled && policy.w_label > 0) loss = loss + policy.w_label * label_loss(logits, tmask);
      if (have_weak) loss = loss + policy.w_rule * weak_loss(logits);
      if (policy.w_entropy > 0 || policy.w_diversity > 0) {
        torch::Tensor logp = torch::log_softmax(logits, 1);
        torch::Tensor p = logp.exp();
        if (policy.w_entropy > 0) {
          torch::Tensor ent = -(p * logp).sum(1);
          torch::Tensor keep = (ent < policy.entropy_filter).to(torch::kFloat32).detach();
          loss = loss + policy.w_entropy * (ent * keep).sum() / keep.sum().clamp_min(1.0);
        }
        if (policy.w_diversity > 0) {
          torch::Tensor pm = p.mean(0).clamp_min(1e-8);
          loss = loss + policy.w_diversity * (pm * (pm.log() - clean_rate.clamp_min(1e-8).log())).sum();
        }
      }
      if (policy.w_moment > 0) loss = loss + policy.w_moment * MomentLoss(out, clean_mean, clean_var);
      // Toward the start: the closed-form map, or the parent.
      if (policy.w_proximal > 0) loss = loss + policy.w_proximal * ProximalLoss(adapter, init, torch::TensorOptions());
      if (!TakeHealStep(loss, opt, step, job, report)) { finite = false; break; }
    }

    AdapterVersion candidate = SealCandidate(job, adapter, &finite);

    GateInputs gate;
    gate.finite = finite;
    gate.labelled = labelled;
    gate.multiclass = true;
    if (finite) {
      torch::NoGradGuard no_grad;
      AdapterTensors cand = ToTensors(candidate, false);
      torch::Tensor out_c = AdapterForward(cand, h), out_p = AdapterForward(parent, h);
      torch::Tensor logits_c = parts.HeadLogits(out_c), logits_p = parts.HeadLogits(out_p);
      report.candidate_class_tv = gate.candidate_class_tv = ClassTv(logits_c, clean_rate);
      report.current_class_tv = gate.current_class_tv = ClassTv(logits_p, clean_rate);
      if (align && !labelled) {  // with labels, the held-out loss judges instead
        gate.candidate_moment_distance = MomentDistance(out_c, clean_mean, clean_var);
        gate.current_moment_distance = MomentDistance(out_p, clean_mean, clean_var);
      }
      if (have_weak) {
        gate.candidate_rule_agreement = weak_agreement(logits_c);
        gate.current_rule_agreement = weak_agreement(logits_p);
      }
      if (labelled) {
        gate.candidate_label_loss = label_loss(logits_c, hmask).item<double>();
        gate.current_label_loss = label_loss(logits_p, hmask).item<double>();
      }
    }
    GateVerdict verdict = ValidateCandidate(gate, policy);
    report.accepted = verdict.accept;
    report.reason = verdict.reason;
    if (verdict.accept) outcome.candidate = std::move(candidate);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("heal: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
  report.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

}  // namespace reflex
