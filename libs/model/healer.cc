#include "model/healer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "core/candidate_choice.h"
#include "core/holdout_split.h"
#include "core/label_shift.h"
#include "core/metrics.h"
#include "core/operating_point.h"
#include "core/validation_gate.h"
#include "model/logit_offset.h"
#include "model/heal_step.h"
#include "model/model_parts.h"
#include "model/score_band.h"

namespace reflex {

namespace F = torch::nn::functional;

std::map<std::string, double> HealReport::Metrics() const {
  if (num_classes >= 2) {
    return {{"steps", static_cast<double>(steps_run)},
            {"loss_first", loss_first},
            {"loss_last", loss_last},
            {"class_tv", candidate_class_tv},
            {"parent_class_tv", current_class_tv},
            {"aligned", aligned ? 1.0 : 0.0},
            {"labelled_rows", static_cast<double>(labelled_rows)},
            {"duration_ms", duration_ms}};
  }
  std::map<std::string, double> m = {{"steps", static_cast<double>(steps_run)},
          {"loss_first", loss_first},
          {"loss_last", loss_last},
          {"positive_rate", candidate_positive_rate},
          {"parent_positive_rate", current_positive_rate},
          {"expected_positive_rate", expected_positive_rate},
          {"positive_rate_lo", positive_rate_lo},
          {"positive_rate_hi", positive_rate_hi},
          {"estimated_prior", diagnosis.prior},
          {"label_shift", diagnosis.kind == ShiftKind::kLabel ? 1.0 : 0.0},
          {"trusted_rules", static_cast<double>(trusted_rules)},
          {"distrusted_rules", static_cast<double>(distrusted_rules)},
          {"labelled_rows", static_cast<double>(labelled_rows)},
          {"logit_offset", logit_offset},
          {"duration_ms", duration_ms}};
  if (labelled_rows > 0) m["labelled_prior"] = labelled_prior;
  if (chosen >= 0) m["chosen"] = chosen;
  for (const auto& [key, value] : choice_figures) m[key] = value;
  return m;
}

bool CudaAvailable() {
  try {
    return torch::cuda::is_available();
  } catch (...) {
    return false;
  }
}

namespace {

// A heal with fewer labelled rows than this treats them as unlabelled.
constexpr size_t kMinLabelledRows = 10;

// The original's conditional positive weight, or the policy's fixed weight.
double PositiveWeight(const HealPolicy& policy, double positive_fraction) {
  if (policy.label_pos_weight >= 0) return policy.label_pos_weight;
  if (positive_fraction < 0.10) return 1.0;
  return std::min(2.0 + (positive_fraction - 0.10) * 10.0, 4.0);
}

// Distance of adapter-output moments from the clean calibration moments: squared differences of
// per-dimension means and standard deviations, over the mean clean variance (robust to dead units).
double MomentDistance(const torch::Tensor& out, const torch::Tensor& clean_mean, const torch::Tensor& clean_var) {
  torch::Tensor mean = out.mean(0), sd = out.var(0, false).sqrt();
  torch::Tensor d = (mean - clean_mean).pow(2) + (sd - clean_var.sqrt()).pow(2);
  return (d.mean() / clean_var.mean().clamp_min(1e-12)).item<double>();
}

struct Rows {
  torch::Tensor x, hidden;       // [n, in], backbone output [n, width]
  torch::Tensor labels;          // [n] float 0/1 (valid where labelled)
  torch::Tensor train_mask, holdout_mask;  // labelled rows used to train / to validate
  torch::Tensor weak_labels, weak_mask;    // trusted-rule labels
};

// The head as the optimisation loop calls it: on the CPU, the model's own module; on CUDA, a
// copy of its parameters (built-in MLP) or of its module (TorchScript) on the device. The
// serving copy never moves: scoring and other heals keep using it on the CPU.
class LoopHead {
 public:
  LoopHead(const HealableModel::Parts& parts, torch::Device device) : parts_(parts), device_(device) {
    if (!device_.is_cuda()) return;
    if (parts_.torchscript) {
      ts_ = std::make_shared<torch::jit::Module>(parts_.ts_head->clone());
      ts_->to(device_);
    } else {
      w_ = parts_.mlp_head->weight.detach().to(device_);
      b_ = parts_.mlp_head->bias.detach().to(device_);
    }
  }
  torch::Tensor operator()(const torch::Tensor& h) const {
    if (!device_.is_cuda()) return parts_.HeadLogit(h);
    torch::Tensor out = ts_ ? ts_->forward({h}).toTensor() : torch::linear(h, w_, b_);
    out = out.reshape({-1});
    if (parts_.head_outputs_probability) out = torch::logit(out, 1e-6);
    return out;
  }

 private:
  const HealableModel::Parts& parts_;
  torch::Device device_;
  std::shared_ptr<torch::jit::Module> ts_;
  torch::Tensor w_, b_;
};

}  // namespace

namespace {

// One binary heal as the job's labels allow: with labels, the labelled candidate; without, the
// label-free one. Heal() below runs it once, or twice (labels shown and hidden) and chooses.
Result<HealOutcome> HealBinaryOnce(const HealableModel& model, const HealCalibration& cal, const HealJob& job) {
  const auto started = std::chrono::steady_clock::now();
  const size_t dims = model.input_dims();
  if (job.n_rows < 2 || job.rows.size() != job.n_rows * dims) {
    return Status::InvalidArgument("heal job: " + std::to_string(job.rows.size()) + " values for " +
                                   std::to_string(job.n_rows) + " rows of " + std::to_string(dims) +
                                   " features (need at least 2 rows)");
  }
  if (!job.labels.empty() && job.labels.size() != job.n_rows) {
    return Status::InvalidArgument("heal job: " + std::to_string(job.labels.size()) + " labels for " +
                                   std::to_string(job.n_rows) + " rows");
  }
  if (job.rules != nullptr && job.rules->multiclass()) {
    return Status::InvalidArgument("heal job: class rules ('=> class NAME') need a multi-class model; this one is binary");
  }
  if (job.base.dims != model.adapter_dims()) return Status::InvalidArgument("heal job: base adapter dims do not match the model");
  REFLEX_RETURN_IF_ERROR(job.base.Verify().WithContext("heal job base adapter"));

  HealOutcome outcome;
  HealReport& report = outcome.report;
  const HealPolicy& policy = job.policy;
  const HealableModel::Parts& parts = model.parts();
  const BatchView view{job.rows.data(), job.n_rows, dims};
  try {
    torch::Device device = (job.use_cuda && CudaAvailable()) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    report.device = device.is_cuda() ? "cuda" : "cpu";
    // The frozen backbone runs once, on the CPU copy the servers use; its outputs, the targets
    // and the adapter then move to `device`, where the optimisation loop runs (the adapter and
    // a device copy of the head). Measuring and gating run on the CPU again.

    // Anchor (version 0) and parent probabilities, and the diagnosis.
    const AdapterTensors anchor = ToTensors(model.initial_adapter(), false);
    const AdapterTensors parent = ToTensors(job.base, false);
    Rows r;
    std::vector<float> anchor_probs(job.n_rows);
    {
      torch::NoGradGuard no_grad;
      r.x = BatchTensor(view).clone();
      r.hidden = parts.Backbone(r.x).detach();
      torch::Tensor p = torch::sigmoid(parts.HeadLogit(AdapterForward(anchor, r.hidden))).contiguous();
      std::memcpy(anchor_probs.data(), p.data_ptr<float>(), sizeof(float) * job.n_rows);
    }
    const int8_t* labels = job.labels.empty() ? nullptr : job.labels.data();
    report.diagnosis = DiagnoseShift(cal.clean, job.rows.data(), job.n_rows, dims, labels, anchor_probs.data(), policy);
    const ShiftDiagnosis& diag = report.diagnosis;

    // Labelled rows, split into train and holdout (core/holdout_split.h).
    std::vector<float> y(job.n_rows, 0.0f);
    const HoldoutSplit split = SplitLabelledRows(labels, job.n_rows, 2, job.rows.data(), dims, job.seed, policy.holdout_fraction);
    const std::vector<float>& train_mask = split.train;
    const std::vector<float>& hold_mask = split.holdout;
    report.labelled_rows = split.labelled;
    for (size_t i = 0; i < job.n_rows && labels != nullptr; ++i) {
      if (labels[i] == 0 || labels[i] == 1) y[i] = static_cast<float>(labels[i]);
    }
    const bool labelled = report.labelled_rows >= kMinLabelledRows;
    r.labels = torch::tensor(y);
    r.train_mask = torch::tensor(train_mask);
    r.holdout_mask = torch::tensor(hold_mask);
    if (labelled && r.holdout_mask.sum().item<float>() < 5) r.holdout_mask = r.train_mask;  // too few to split
    double pos_fraction = 0;
    if (labelled) pos_fraction = (r.labels * r.train_mask).sum().item<double>() / std::max(1.0f, r.train_mask.sum().item<float>());
    // Under a diagnosed label shift the prior-corrected target already carries the new class
    // balance; the original's conditional weight on top would count it twice.
    const bool prior_corrected = diag.kind == ShiftKind::kLabel && policy.label_pos_weight < 0;
    const double pos_weight = prior_corrected ? 1.0 : PositiveWeight(policy, pos_fraction);

    // Trusted rules and their weak labels.
    std::vector<bool> trusted;
    if (job.rules != nullptr && !job.rules->empty()) {
      RuleSet::BatchStats fired = job.rules->Evaluate(job.rows.data(), job.n_rows, nullptr, 0.5);
      for (size_t k = 0; k < job.rules->size(); ++k) {
        double rate = static_cast<double>(fired.fired[k]) / job.n_rows;
        bool ok;
        if (labelled) {  // labels decide: the rule must be right on most labelled rows it fires on
          size_t n = 0, right = 0;
          const int want = job.rules->outcome(k) == RuleOutcome::kPositive ? 1 : 0;
          for (size_t i = 0; i < job.n_rows; ++i) {
            if ((labels[i] == 0 || labels[i] == 1) && job.rules->Fires(k, job.rows.data() + i * dims)) {
              ++n;
              right += labels[i] == want;
            }
          }
          ok = n >= 5 && right * 2 > n;
        } else {
          double expected = k < cal.rule_fire.size() ? cal.rule_fire[k] : rate;
          if (diag.kind == ShiftKind::kLabel && k < cal.rule_fire_class1.size()) {
            expected = diag.prior * cal.rule_fire_class1[k] + (1 - diag.prior) * cal.rule_fire_class0[k];
          }
          ok = std::fabs(rate - expected) <= policy.rule_trust_tolerance;
        }
        trusted.push_back(ok);
        (ok ? report.trusted_rules : report.distrusted_rules) += 1;
      }
      std::vector<int8_t> weak = job.rules->WeakLabels(job.rows.data(), job.n_rows, &trusted);
      std::vector<float> wl(job.n_rows, 0.0f), wm(job.n_rows, 0.0f);
      for (size_t i = 0; i < job.n_rows; ++i) {
        if (weak[i] >= 0) { wl[i] = weak[i]; wm[i] = 1.0f; }
      }
      r.weak_labels = torch::tensor(wl);
      r.weak_mask = torch::tensor(wm);
    }
    const bool have_weak = r.weak_mask.defined() && r.weak_mask.sum().item<float>() > 0 && policy.w_rule > 0;

    // A labelled heal under a diagnosed label shift: the class-conditional distributions did not
    // move, so version 0's ranking of rows is still the one to keep; only where it cuts has moved.
    // Rather than distil the prior-corrected posterior (which assumes version 0 is calibrated on
    // the new data, and it need not be: on `prior` its logits are about twice too steep) and then
    // keep that target's cut, the candidate is version 0 exactly, and the operating point below
    // places the cut from the labels. No gradient step: there is nothing to learn but the cut.
    const bool prior_cut = labelled && diag.kind == ShiftKind::kLabel && policy.operating_point != OperatingPoint::kNone;

    // Closed-form target.
    torch::Tensor target_prob, target_logit, target_out;
    torch::Tensor synth_hidden, synth_logit, synth_out;  // inverse-aligned clean sample and its exact targets
    torch::Tensor synth_labels;                          // the clean sample's labels
    {
      torch::NoGradGuard no_grad;
      if (diag.kind == ShiftKind::kLabel && !prior_cut) {
        std::vector<float> t(job.n_rows);
        for (size_t i = 0; i < job.n_rows; ++i) {
          t[i] = static_cast<float>(AdjustPosterior(anchor_probs[i], cal.clean.train_prior, diag.prior));
        }
        target_prob = torch::tensor(t);
      } else if (diag.kind == ShiftKind::kCovariate && !diag.alignment.empty()) {
        std::vector<float> aligned = job.rows;
        diag.alignment.Apply(aligned.data(), job.n_rows, dims);
        torch::Tensor xa = torch::from_blob(aligned.data(), {static_cast<int64_t>(job.n_rows), static_cast<int64_t>(dims)}).clone();
        target_out = AdapterForward(anchor, parts.Backbone(xa)).detach();
        target_logit = parts.HeadLogit(target_out).detach();
        if (cal.clean_sample_rows > 0 && policy.w_synthetic > 0) {
          std::vector<float> drifted = cal.clean_sample;
          const FeatureAlignment& a = diag.alignment;
          for (size_t row = 0; row < cal.clean_sample_rows; ++row) {
            for (size_t i = 0; i < a.features.size(); ++i) {
              float& v = drifted[row * dims + a.features[i]];
              v = static_cast<float>((v - a.offset[i]) / a.scale[i]);
            }
          }
          const auto n = static_cast<int64_t>(cal.clean_sample_rows), d = static_cast<int64_t>(dims);
          torch::Tensor clean_x = torch::from_blob(const_cast<float*>(cal.clean_sample.data()), {n, d}).clone();
          synth_hidden = parts.Backbone(torch::from_blob(drifted.data(), {n, d}).clone()).detach();
          synth_out = AdapterForward(anchor, parts.Backbone(clean_x)).detach();
          synth_logit = parts.HeadLogit(synth_out).detach();
          synth_labels = torch::tensor(std::vector<float>(cal.clean_sample_labels.begin(), cal.clean_sample_labels.end()));
        }
      }
    }
    // With labels, a closed-form target is used only when the labels confirm it.
    const bool target_confirmed = !labelled || diag.kind == ShiftKind::kLabel || diag.alignment_verified;
    const double w_distill = target_confirmed ? policy.w_distill : 0.0;
    const bool distill = (target_prob.defined() || target_logit.defined()) && w_distill > 0;
    const int steps = prior_cut ? 0 : distill ? policy.distill_steps : policy.steps;
    const double lr = distill ? policy.distill_lr : policy.lr;

    // Optimise the adapter only.
    auto on = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    const LoopHead head(parts, device);
    const torch::Tensor hidden_d = on(r.hidden), labels_d = on(r.labels), train_d = on(r.train_mask);
    const torch::Tensor weak_labels_d = on(r.weak_labels), weak_mask_d = on(r.weak_mask);
    const torch::Tensor target_prob_d = on(target_prob), target_logit_d = on(target_logit), target_out_d = on(target_out);
    const torch::Tensor synth_hidden_d = on(synth_hidden), synth_logit_d = on(synth_logit), synth_out_d = on(synth_out);
    const torch::Tensor synth_labels_d = on(synth_labels);
    // A labels-only heal (labels, and no closed-form target they confirm) re-fits from version 0
    // rather than from the parent: its few gradient steps on a few hundred labels are noise as much
    // as signal, and over a chain of heals that noise accumulates in the ranking. The operating
    // point below then places the threshold. The parent is still recorded as the parent.
    const bool labels_only = labelled && !distill && !prior_cut && policy.operating_point != OperatingPoint::kNone;
    const bool from_anchor = labels_only || prior_cut;
    const AdapterTensors& start = from_anchor ? anchor : parent;
    const AdapterTensors start_d{on(start.w1), on(start.b1), on(start.w2), on(start.b2), on(start.scale)};
    AdapterTensors adapter = ToTensors(from_anchor ? model.initial_adapter() : job.base, false);
    for (torch::Tensor* t : {&adapter.w1, &adapter.b1, &adapter.w2, &adapter.b2, &adapter.scale}) {
      *t = t->to(device).detach().requires_grad_(true);
    }
    std::vector<torch::Tensor> params = adapter.list();
    torch::optim::Adam opt(params, torch::optim::AdamOptions(lr));
    torch::Tensor clean_mean = torch::tensor(std::vector<float>(cal.output_mean.begin(), cal.output_mean.end()));
    torch::Tensor clean_var = torch::tensor(std::vector<float>(cal.output_var.begin(), cal.output_var.end()));
    const torch::Tensor clean_mean_d = on(clean_mean), clean_var_d = on(clean_var);
    auto label_loss = [&](const torch::Tensor& logit, const torch::Tensor& labels_t, const torch::Tensor& mask) {
      torch::Tensor per_row = torch::binary_cross_entropy_with_logits(
          logit, labels_t, {}, torch::full({1}, pos_weight, logit.options()), at::Reduction::None);
      return (per_row * mask).sum() / mask.sum().clamp_min(1.0);
    };
    bool finite = true;
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
      if (labelled && policy.w_label > 0) {
        loss = loss + policy.w_label * label_loss(logit, labels_d, train_d);
        if (synth_hidden_d.defined() && distill) {
          // Labels confirmed the alignment: the inverse-aligned clean sample is labelled drifted data.
          loss = loss + policy.w_label * policy.w_synthetic *
                            torch::binary_cross_entropy_with_logits(head(AdapterForward(adapter, synth_hidden_d)), synth_labels_d);
        }
      }
      if (have_weak) {
        torch::Tensor per_row = torch::binary_cross_entropy_with_logits(logit, weak_labels_d, {}, {}, at::Reduction::None);
        loss = loss + policy.w_rule * (per_row * weak_mask_d).sum() / weak_mask_d.sum();
      }
      if (policy.w_entropy > 0) {
        torch::Tensor p = torch::sigmoid(logit).clamp(1e-6, 1 - 1e-6);
        torch::Tensor ent = -(p * torch::log(p) + (1 - p) * torch::log(1 - p));
        torch::Tensor keep = (ent < policy.entropy_filter).to(torch::kFloat32).detach();
        loss = loss + policy.w_entropy * (ent * keep).sum() / keep.sum().clamp_min(1.0);
      }
      if (policy.w_moment > 0 && diag.kind != ShiftKind::kLabel) {
        torch::Tensor v = clean_var_d.clamp_min(1e-6);
        loss = loss + policy.w_moment * ((out.mean(0) - clean_mean_d).pow(2) / v +
                                         torch::log((out.var(0, false) + 1e-6) / v).pow(2)).mean();
      }
      if (policy.w_proximal > 0) {
        torch::Tensor prox = torch::zeros({}, hidden_d.options());
        std::vector<torch::Tensor> now = adapter.list(), was = start_d.list();
        for (size_t i = 0; i < now.size(); ++i) prox = prox + (now[i] - was[i]).pow(2).sum();
        loss = loss + policy.w_proximal * prox;
      }
      if (!TakeHealStep(loss, opt, step, job, report)) { finite = false; break; }
    }

    AdapterVersion candidate = SealCandidate(job, adapter, &finite);

    // Operating point (labels-only and labelled label-shift heals): one offset on every logit,
    // chosen with the labelled training rows only, so the holdout that gates the candidate stays
    // unseen. A heal whose closed-form target the labels confirmed (realignment) rebuilds the
    // clean model's decision, threshold included, and keeps it.
    if ((labels_only || prior_cut) && finite) {
      std::vector<float> train_logits(job.n_rows);
      std::vector<int8_t> train_labels(job.n_rows, -1);
      {
        torch::NoGradGuard no_grad;
        torch::Tensor logit = parts.HeadLogit(AdapterForward(ToTensors(candidate, false), r.hidden)).contiguous();
        std::memcpy(train_logits.data(), logit.data_ptr<float>(), sizeof(float) * job.n_rows);
      }
      // The F1 to keep: the deployed model's (version 0) on the same rows, a fixed anchor.
      Confusion anchor;
      std::vector<uint8_t> anchor_flagged(job.n_rows);
      for (size_t i = 0; i < job.n_rows; ++i) {
        anchor_flagged[i] = anchor_probs[i] > 0.5f;
        if (train_mask[i] <= 0) continue;
        train_labels[i] = static_cast<int8_t>(y[i]);
        anchor.Add(anchor_flagged[i] != 0, y[i] > 0.5f);
      }
      // A label shift moves every row's log odds by one constant, so its calibration is Platt's
      // degree 1; the quadratic term is for drifts that leave the positives in a band.
      const LogitOffsetChoice choice =
          policy.operating_point == OperatingPoint::kExpectedAccuracyAtF1
              ? ChooseExpectedLogitOffset(train_logits.data(), train_labels.data(), job.n_rows, anchor_flagged.data(),
                                          policy.operating_f1_tolerance, prior_cut ? 1 : 2)
              : ChooseLogitOffset(train_logits.data(), train_labels.data(), job.n_rows, policy.operating_point,
                                  anchor.f1() - policy.operating_f1_tolerance);
      // The band alternative: on the clean score (the head on the backbone's output, no
      // adapter), the rows in a band, when the calibrated probability peaks inside the range and
      // the band's expected accuracy beats the threshold's at the same F1 floor.
      std::vector<float> scores;
      ScoreBandChoice band;
      // Not under a label shift: there the ranking is right and only the cut moved.
      if (policy.operating_point == OperatingPoint::kExpectedAccuracyAtF1 && labels_only) {
        scores.resize(job.n_rows);
        {
          torch::NoGradGuard no_grad;
          torch::Tensor s = parts.HeadLogit(r.hidden).contiguous();
          std::memcpy(scores.data(), s.data_ptr<float>(), sizeof(float) * job.n_rows);
        }
        band = ChooseExpectedScoreBand(scores.data(), train_labels.data(), job.n_rows, anchor_flagged.data(),
                                       policy.operating_f1_tolerance);
      }
      const bool threshold_meets = choice.f1_after >= choice.reference_f1 && choice.rows > 0;
      if (band.ok && (!threshold_meets || band.accuracy_after > choice.accuracy_after)) {
        Result<std::vector<float>> w = HeadDirection(model, view);
        Result<double> bias = w.ok() ? HeadBias(model, view, *w) : Result<double>(w.status());
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
            return std::log(pos_weight * rate / (1.0 - rate));
          };
          sb.inside = std::max(weighted_logit(band.inside_rate), 0.1);
          sb.outside = std::min(weighted_logit(band.outside_rate), -0.1);
          banded = BandAdapter(candidate, *w, *bias, sb);
        } else {
          banded = bias.status();
        }
        if (banded.ok()) {
          candidate = std::move(*banded);
          report.operating_point_note = "operating point: clean-score band (" + std::to_string(band.lo) + ", " +
                                        std::to_string(band.hi) + "), expected accuracy " + std::to_string(band.accuracy_after) +
                                        " at F1 " + std::to_string(band.f1_after);
        } else {
          report.operating_point_note = "operating point band skipped: " + banded.status().message();
        }
      } else if (choice.offset != 0) {
        Result<std::vector<float>> w = HeadDirection(model, view);
        Result<AdapterVersion> shifted = w.ok() ? ShiftLogits(candidate, *w, choice.offset) : Result<AdapterVersion>(w.status());
        if (shifted.ok()) {
          candidate = std::move(*shifted);
          report.logit_offset = choice.offset;
        } else {
          report.operating_point_note = "operating point skipped: " + shifted.status().message();
        }
      }
    }

    // Measure candidate and parent on the same rows, then gate.
    GateInputs gate;
    gate.finite = finite;
    gate.labelled = labelled;
    {
      torch::NoGradGuard no_grad;
      AdapterTensors cand = ToTensors(candidate, false);
      torch::Tensor out_c = AdapterForward(cand, r.hidden), out_p = AdapterForward(parent, r.hidden);
      torch::Tensor logit_c = parts.HeadLogit(out_c), logit_p = parts.HeadLogit(out_p);
      report.candidate_positive_rate = (logit_c > 0).to(torch::kFloat64).mean().item<double>();
      report.current_positive_rate = (logit_p > 0).to(torch::kFloat64).mean().item<double>();
      // The evidence the positive-rate bounds rest on (core/validation_gate.h).
      gate.evidence.clean_rate = cal.clean.clean_positive_rate;
      if (diag.kind == ShiftKind::kLabel) gate.evidence.estimated_prior = diag.prior;
      if (labelled) {
        gate.evidence.labelled_prior = (r.labels * (r.train_mask + r.holdout_mask).clamp_max(1)).sum().item<double>() / report.labelled_rows;
        gate.evidence.labelled_rows = report.labelled_rows;
        report.labelled_prior = *gate.evidence.labelled_prior;
      }
      gate.evidence.measured_rows = job.n_rows;
      const RateBounds bounds = PositiveRateBounds(gate.evidence, policy);
      report.expected_positive_rate = bounds.expected;
      report.positive_rate_lo = bounds.lo;
      report.positive_rate_hi = bounds.hi;
      gate.candidate_positive_rate = report.candidate_positive_rate;
      gate.current_positive_rate = report.current_positive_rate;
      // Moments are the target of a covariate heal the labels did not overrule; a labels-only heal
      // answers to the held-out labels instead.
      if (diag.kind == ShiftKind::kCovariate && finite && !labels_only) {
        gate.candidate_moment_distance = MomentDistance(out_c, clean_mean, clean_var);
        gate.current_moment_distance = MomentDistance(out_p, clean_mean, clean_var);
      }
      if (have_weak) {
        auto agreement = [&](const torch::Tensor& logit) {
          torch::Tensor agree = ((logit > 0).to(torch::kFloat32) == r.weak_labels).to(torch::kFloat32);
          return ((agree * r.weak_mask).sum() / r.weak_mask.sum()).item<double>();
        };
        gate.candidate_rule_agreement = agreement(logit_c);
        gate.current_rule_agreement = agreement(logit_p);
      }
      if (labelled) {
        gate.candidate_label_loss = label_loss(logit_c, r.labels, r.holdout_mask).item<double>();
        gate.current_label_loss = label_loss(logit_p, r.labels, r.holdout_mask).item<double>();
      }
    }
    GateVerdict verdict = ValidateCandidate(gate, policy);
    report.accepted = verdict.accept;
    report.reason = verdict.reason;
    if (!report.operating_point_note.empty()) report.reason += "; " + report.operating_point_note;
    if (verdict.accept) outcome.candidate = std::move(candidate);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("heal: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
  report.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

}  // namespace


namespace {

// Which candidate of a labelled heal becomes the version (core/candidate_choice.h): the parent,
// version 0, the label-free candidate and the labelled one, in that order of simplicity, judged
// on the job's held-out labelled rows (the same split the labelled candidate trained around) by
// the per-row label loss the labelled heal minimises.
Result<HealOutcome> ChooseLabelledHeal(const HealableModel& model, const HealJob& job, HealOutcome labelled,
                                       HealOutcome label_free) {
  const size_t dims = model.input_dims();
  const HealableModel::Parts& parts = model.parts();
  const HealPolicy& policy = job.policy;
  const HoldoutSplit split =
      SplitLabelledRows(job.labels.data(), job.n_rows, 2, job.rows.data(), dims, job.seed, policy.holdout_fraction);
  size_t train_rows = 0, train_positives = 0;
  std::vector<int64_t> held;
  std::vector<float> held_labels;
  for (size_t i = 0; i < job.n_rows; ++i) {
    if (split.train[i] > 0) { ++train_rows; train_positives += job.labels[i]; }
    if (split.holdout[i] > 0) { held.push_back(static_cast<int64_t>(i)); held_labels.push_back(job.labels[i]); }
  }
  const ShiftDiagnosis& diag = labelled.report.diagnosis;
  const bool prior_corrected = diag.kind == ShiftKind::kLabel && policy.label_pos_weight < 0;
  const double pos_weight =
      prior_corrected ? 1.0 : PositiveWeight(policy, train_rows ? static_cast<double>(train_positives) / train_rows : 0.0);

  AdapterVersion version0 = model.initial_adapter();
  version0.version = job.new_version;
  version0.parent = job.base.version;
  version0.epoch = job.epoch;
  version0.Seal();
  struct Option {
    const char* name;    // in the reason
    const char* key;     // in the metrics
    int code;            // HealReport::chosen
    const AdapterVersion* adapter;
  };
  std::vector<Option> options = {{"parent", "parent", 0, &job.base}};
  if (job.base.weights != model.initial_adapter().weights) options.push_back({"version 0", "version0", 3, &version0});
  options.push_back({"label-free", "label_free", 1, label_free.candidate ? &*label_free.candidate : nullptr});
  options.push_back({"labelled", "labelled", 2, labelled.candidate ? &*labelled.candidate : nullptr});

  std::vector<ChoiceCandidate> candidates;
  double version0_rate = 0;
  try {
    torch::NoGradGuard no_grad;
    const torch::Tensor hidden = parts.Backbone(BatchTensor({job.rows.data(), job.n_rows, dims}).clone()).detach();
    const torch::Tensor index = torch::tensor(held, torch::kLong);
    const torch::Tensor hidden_held = hidden.index_select(0, index);
    const torch::Tensor y = torch::tensor(held_labels);
    const torch::Tensor weight = torch::full({1}, pos_weight);
    for (const Option& o : options) {
      ChoiceCandidate c;
      c.name = o.name;
      c.admissible = o.adapter != nullptr;
      if (c.admissible && !held.empty()) {
        const AdapterTensors a = ToTensors(*o.adapter, false);
        torch::Tensor per_row = torch::binary_cross_entropy_with_logits(
            parts.HeadLogit(AdapterForward(a, hidden_held)), y, {}, weight, at::Reduction::None).to(torch::kFloat64).contiguous();
        c.losses.assign(per_row.data_ptr<double>(), per_row.data_ptr<double>() + per_row.numel());
      }
      if (o.code == 3) {
        version0_rate = (parts.HeadLogit(AdapterForward(ToTensors(version0, false), hidden)) > 0).to(torch::kFloat64).mean().item<double>();
      }
      candidates.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("heal: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
  const CandidateChoice choice = ChooseJustifiedCandidate(candidates, policy.confidence_z);

  const int code = options[choice.chosen].code;
  const std::string built = "; labelled candidate: " + (code == 2 ? std::string("this one") : labelled.report.reason) +
                            "; label-free candidate: " + (code == 1 ? std::string("this one") : label_free.report.reason);
  HealOutcome out;
  if (code == 1) {
    out = std::move(label_free);
    out.report.labelled_rows = labelled.report.labelled_rows;
    out.report.labelled_prior = labelled.report.labelled_prior;
  } else {
    out = std::move(labelled);
  }
  HealReport& report = out.report;
  report.chosen = code;
  report.choice_figures["holdout_rows"] = static_cast<double>(choice.rows);
  for (size_t k = 0; k < options.size(); ++k) {
    if (!std::isnan(choice.mean_loss[k])) report.choice_figures[std::string("holdout_loss_") + options[k].key] = choice.mean_loss[k];
    if (!std::isnan(choice.lower_bound[k])) report.choice_figures[std::string("gain_bound_") + options[k].key] = choice.lower_bound[k];
  }
  if (code == 0) {
    report.accepted = false;
    out.candidate.reset();
    report.reason = "rejected: no candidate beats the current version beyond its noise; " + choice.reason + built;
  } else if (code == 3) {
    report.accepted = true;
    out.candidate = version0;
    report.steps_run = 0;
    report.logit_offset = 0;
    report.operating_point_note.clear();
    report.candidate_positive_rate = version0_rate;
    report.reason = "accepted: version 0 again; " + choice.reason + built;
  } else {
    report.reason = choice.reason + "; " + report.reason + built;
  }
  return out;
}

}  // namespace

Result<HealOutcome> Heal(const HealableModel& model, const HealCalibration& cal, const HealJob& job) {
  if (model.parts().multiclass()) return HealMulticlass(model, cal, job);
  const auto started = std::chrono::steady_clock::now();
  Result<HealOutcome> labelled = HealBinaryOnce(model, cal, job);
  if (!labelled.ok() || labelled->report.labelled_rows < kMinLabelledRows) return labelled;
  // The same heal with the labels hidden: the label-free candidate is always among the choices,
  // so labels can only make a heal better than it would have been without them.
  HealJob blind = job;
  blind.labels.clear();
  Result<HealOutcome> label_free = HealBinaryOnce(model, cal, blind);
  if (!label_free.ok()) return label_free.status();
  Result<HealOutcome> chosen = ChooseLabelledHeal(model, job, std::move(*labelled), std::move(*label_free));
  if (chosen.ok()) {
    chosen->report.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  }
  return chosen;
}

}  // namespace reflex
