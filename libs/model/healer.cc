// Heal(): one entry point for binary and multi-class heals (healer.h). The binary heal runs
// diagnosis -> strategy -> target -> loss -> operating point -> gate (heal_binary.h), once
// without labels, twice with them (labels shown and hidden), and then chooses among the parent,
// version 0 and its candidates on the held-out labelled rows (core/candidate_choice.h).
// Thread-compatible: every heal owns its tensors; the model and calibration are only read.
#include "model/healer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/candidate_choice.h"
#include "core/holdout_split.h"
#include "core/validation_gate.h"
#include "model/heal_binary.h"
#include "model/heal_loss.h"
#include "model/heal_step.h"
#include "model/model_parts.h"

namespace reflex {

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

// The original's conditional positive weight, or the policy's fixed weight.
double PositiveWeight(const HealPolicy& policy, double positive_fraction) {
  if (policy.label_pos_weight >= 0) return policy.label_pos_weight;
  if (positive_fraction < 0.10) return 1.0;
  return std::min(2.0 + (positive_fraction - 0.10) * 10.0, 4.0);
}

Status CheckBinaryJob(const HealableModel& model, const HealJob& job) {
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
  return job.base.Verify().WithContext("heal job base adapter");
}

}  // namespace

void PrepareBinaryHeal(BinaryHeal& h, HealReport* report) {
  const HealJob& job = h.job;
  const HealPolicy& policy = h.policy;
  h.dims = h.model.input_dims();
  h.view = BatchView{job.rows.data(), job.n_rows, h.dims};
  h.device = (job.use_cuda && CudaAvailable()) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  report->device = h.device.is_cuda() ? "cuda" : "cpu";
  // The frozen backbone runs once, on the CPU copy the servers use; its outputs, the targets and
  // the adapter then move to the device, where the optimisation loop runs (the adapter and a
  // device copy of the head). Measuring and gating run on the CPU again.
  h.anchor = ToTensors(h.model.initial_adapter(), false);
  h.parent = ToTensors(job.base, false);
  h.anchor_probs.assign(job.n_rows, 0.0f);
  {
    torch::NoGradGuard no_grad;
    h.r.x = BatchTensor(h.view).clone();
    h.r.hidden = h.parts.Backbone(h.r.x).detach();
    torch::Tensor p = torch::sigmoid(h.parts.HeadLogit(AdapterForward(h.anchor, h.r.hidden))).contiguous();
    std::memcpy(h.anchor_probs.data(), p.data_ptr<float>(), sizeof(float) * job.n_rows);
  }
  h.labels = job.labels.empty() ? nullptr : job.labels.data();
  report->diagnosis = DiagnoseShift(h.cal.clean, job.rows.data(), job.n_rows, h.dims, h.labels, h.anchor_probs.data(), policy);
  h.diag = &report->diagnosis;

  // Labelled rows, split into train and holdout (core/holdout_split.h).
  h.y.assign(job.n_rows, 0.0f);
  h.split = SplitLabelledRows(h.labels, job.n_rows, 2, job.rows.data(), h.dims, job.seed, policy.holdout_fraction);
  report->labelled_rows = h.split.labelled;
  for (size_t i = 0; i < job.n_rows && h.labels != nullptr; ++i) {
    if (h.labels[i] == 0 || h.labels[i] == 1) h.y[i] = static_cast<float>(h.labels[i]);
  }
  h.labelled = report->labelled_rows >= kMinLabelledRows;
  h.r.labels = torch::tensor(h.y);
  h.r.train_mask = torch::tensor(h.split.train);
  h.r.holdout_mask = torch::tensor(h.split.holdout);
  if (h.labelled && h.r.holdout_mask.sum().item<float>() < 5) h.r.holdout_mask = h.r.train_mask;  // too few to split
  double pos_fraction = 0;
  if (h.labelled) pos_fraction = (h.r.labels * h.r.train_mask).sum().item<double>() / std::max(1.0f, h.r.train_mask.sum().item<float>());
  // Under a diagnosed label shift the prior-corrected target already carries the new class
  // balance; the original's conditional weight on top would count it twice.
  const bool prior_corrected = h.diag->kind == ShiftKind::kLabel && policy.label_pos_weight < 0;
  h.pos_weight = prior_corrected ? 1.0 : PositiveWeight(policy, pos_fraction);

  // Trusted rules and their weak labels.
  std::vector<bool> trusted;
  if (h.job.rules != nullptr && !h.job.rules->empty()) {
    RuleSet::BatchStats fired = h.job.rules->Evaluate(h.job.rows.data(), h.job.n_rows, nullptr, 0.5);
    for (size_t k = 0; k < h.job.rules->size(); ++k) {
      double rate = static_cast<double>(fired.fired[k]) / h.job.n_rows;
      bool ok;
      if (h.labelled) {  // labels decide: the rule must be right on most labelled rows it fires on
        size_t n = 0, right = 0;
        const int want = h.job.rules->outcome(k) == RuleOutcome::kPositive ? 1 : 0;
        for (size_t i = 0; i < h.job.n_rows; ++i) {
          if ((h.labels[i] == 0 || h.labels[i] == 1) && h.job.rules->Fires(k, h.job.rows.data() + i * h.dims)) {
            ++n;
            right += h.labels[i] == want;
          }
        }
        ok = n >= 5 && right * 2 > n;
      } else {
        double expected = k < h.cal.rule_fire.size() ? h.cal.rule_fire[k] : rate;
        if (h.diag->kind == ShiftKind::kLabel && k < h.cal.rule_fire_class1.size()) {
          expected = h.diag->prior * h.cal.rule_fire_class1[k] + (1 - h.diag->prior) * h.cal.rule_fire_class0[k];
        }
        ok = std::fabs(rate - expected) <= h.policy.rule_trust_tolerance;
      }
      trusted.push_back(ok);
      (ok ? report->trusted_rules : report->distrusted_rules) += 1;
    }
    std::vector<int8_t> weak = h.job.rules->WeakLabels(h.job.rows.data(), h.job.n_rows, &trusted);
    std::vector<float> wl(h.job.n_rows, 0.0f), wm(h.job.n_rows, 0.0f);
    for (size_t i = 0; i < h.job.n_rows; ++i) {
      if (weak[i] >= 0) { wl[i] = weak[i]; wm[i] = 1.0f; }
    }
    h.r.weak_labels = torch::tensor(wl);
    h.r.weak_mask = torch::tensor(wm);
  }
  h.have_weak = h.r.weak_mask.defined() && h.r.weak_mask.sum().item<float>() > 0 && policy.w_rule > 0;
}

HealStrategy ChooseStrategy(const ShiftDiagnosis& diag, bool labelled, const HealPolicy& policy) {
  const bool cut = policy.operating_point != OperatingPoint::kNone;
  if (diag.kind == ShiftKind::kLabel) {
    if (labelled && cut) return HealStrategy::kLabelShiftCut;
    if (policy.w_distill > 0) return HealStrategy::kPriorTarget;
  } else if (diag.kind == ShiftKind::kCovariate && !diag.alignment.empty() && policy.w_distill > 0 &&
             (!labelled || diag.alignment_verified)) {
    return HealStrategy::kAlignment;  // with labels, a closed-form target is used only when they confirm it
  }
  return labelled && cut ? HealStrategy::kLabels : HealStrategy::kGradient;
}

bool Distils(HealStrategy s) { return s == HealStrategy::kAlignment || s == HealStrategy::kPriorTarget; }
bool StartsFromVersion0(HealStrategy s) { return s == HealStrategy::kLabels || s == HealStrategy::kLabelShiftCut; }

namespace {

// Measures candidate and parent on the same rows and asks the gate (core/validation_gate.h).
GateVerdict GateBinaryCandidate(const BinaryHeal& h, HealStrategy strategy, const AdapterVersion& candidate, bool finite,
                                HealReport& report) {
  const ShiftDiagnosis& diag = *h.diag;
  const HealRows& r = h.r;
  GateInputs gate;
  gate.finite = finite;
  gate.labelled = h.labelled;
  torch::NoGradGuard no_grad;
  torch::Tensor clean_mean = torch::tensor(std::vector<float>(h.cal.output_mean.begin(), h.cal.output_mean.end()));
  torch::Tensor clean_var = torch::tensor(std::vector<float>(h.cal.output_var.begin(), h.cal.output_var.end()));
  AdapterTensors cand = ToTensors(candidate, false);
  torch::Tensor out_c = AdapterForward(cand, r.hidden), out_p = AdapterForward(h.parent, r.hidden);
  torch::Tensor logit_c = h.parts.HeadLogit(out_c), logit_p = h.parts.HeadLogit(out_p);
  report.candidate_positive_rate = (logit_c > 0).to(torch::kFloat64).mean().item<double>();
  report.current_positive_rate = (logit_p > 0).to(torch::kFloat64).mean().item<double>();
  // The evidence the positive-rate bounds rest on (core/validation_gate.h).
  gate.evidence.clean_rate = h.cal.clean.clean_positive_rate;
  if (diag.kind == ShiftKind::kLabel) gate.evidence.estimated_prior = diag.prior;
  if (h.labelled) {
    gate.evidence.labelled_prior = (r.labels * (r.train_mask + r.holdout_mask).clamp_max(1)).sum().item<double>() / report.labelled_rows;
    gate.evidence.labelled_rows = report.labelled_rows;
    report.labelled_prior = *gate.evidence.labelled_prior;
  }
  gate.evidence.measured_rows = h.job.n_rows;
  const RateBounds bounds = PositiveRateBounds(gate.evidence, h.policy);
  report.expected_positive_rate = bounds.expected;
  report.positive_rate_lo = bounds.lo;
  report.positive_rate_hi = bounds.hi;
  gate.candidate_positive_rate = report.candidate_positive_rate;
  gate.current_positive_rate = report.current_positive_rate;
  // Moments are the target of a covariate heal the labels did not overrule; a labels-only heal
  // answers to the held-out labels instead.
  if (diag.kind == ShiftKind::kCovariate && finite && strategy != HealStrategy::kLabels) {
    gate.candidate_moment_distance = MomentDistance(out_c, clean_mean, clean_var);
    gate.current_moment_distance = MomentDistance(out_p, clean_mean, clean_var);
  }
  if (h.have_weak) {
    auto agreement = [&](const torch::Tensor& logit) {
      torch::Tensor agree = ((logit > 0).to(torch::kFloat32) == r.weak_labels).to(torch::kFloat32);
      return ((agree * r.weak_mask).sum() / r.weak_mask.sum()).item<double>();
    };
    gate.candidate_rule_agreement = agreement(logit_c);
    gate.current_rule_agreement = agreement(logit_p);
  }
  if (h.labelled) {
    gate.candidate_label_loss = WeightedLabelLoss(logit_c, r.labels, r.holdout_mask, h.pos_weight).item<double>();
    gate.current_label_loss = WeightedLabelLoss(logit_p, r.labels, r.holdout_mask, h.pos_weight).item<double>();
  }
  return ValidateCandidate(gate, h.policy);
}

// One binary heal as the job's labels allow: with labels, the labelled candidate; without, the
// label-free one. Heal() below runs it once, or twice (labels shown and hidden) and chooses.
Result<HealOutcome> HealBinaryOnce(const HealableModel& model, const HealCalibration& cal, const HealJob& job) {
  const auto started = std::chrono::steady_clock::now();
  REFLEX_RETURN_IF_ERROR(CheckBinaryJob(model, job));
  HealOutcome outcome;
  HealReport& report = outcome.report;
  try {
    BinaryHeal h{model, model.parts(), cal, job, job.policy};
    PrepareBinaryHeal(h, &report);
    const HealStrategy strategy = ChooseStrategy(report.diagnosis, h.labelled, h.policy);
    HealTarget target;
    if (strategy == HealStrategy::kAlignment) target = AlignmentTarget(h);
    if (strategy == HealStrategy::kPriorTarget) target = PriorCorrectedTarget(h);
    bool finite = true;
    const AdapterTensors adapter = OptimiseBinaryAdapter(h, strategy, target, &report, &finite);
    AdapterVersion candidate = SealCandidate(job, adapter, &finite);
    // A heal whose closed-form target the labels confirmed (realignment) rebuilds the clean
    // model's decision, threshold included, and keeps it.
    if (StartsFromVersion0(strategy) && finite) PlaceOperatingPoint(h, strategy, &candidate, &report);
    const GateVerdict verdict = GateBinaryCandidate(h, strategy, candidate, finite, report);
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

// Which candidate of a labelled heal becomes the version (core/candidate_choice.h): the
// label-free candidate by default (else the parent), then the parent, version 0 and the labelled
// one, each replacing the incumbent only when it beats it beyond its noise, judged
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
  // The default is what the same heal does without labels (when its own gate accepted it): the
  // labels then move the choice only as far as they justify, so a labelled heal is never worse
  // than a label-free one for want of held-out rows. Without a label-free candidate the parent
  // is the default.
  std::vector<Option> options;
  if (label_free.candidate) options.push_back({"label-free", "label_free", 1, &*label_free.candidate});
  options.push_back({"parent", "parent", 0, &job.base});
  if (job.base.weights != model.initial_adapter().weights) options.push_back({"version 0", "version0", 3, &version0});
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
