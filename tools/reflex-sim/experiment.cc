#include "experiment.h"

#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <sstream>

#include "bayes_frontier.h"
#include "core/fidi.h"
#include "control/heal_controller.h"
#include "core/label_shift.h"
#include "core/registry.h"
#include "core/rules.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"

namespace reflex::sim {

namespace {

using control::Action;
using control::ControllerConfig;
using control::Decision;
using control::DriftObservation;
using control::HealController;
using control::Origin;
using control::PairedOutcome;

std::string Fmt(double v, int digits = 3) {
  std::ostringstream out;
  out.precision(digits);
  out << std::fixed << v;
  return out.str();
}

// One healed arm: its versions, its window of recent rows, and the heal controller that decides
// for it (control/heal_controller.h: the same one the cluster's coordinator runs).
struct HealedArm {
  std::string name;
  bool uses_labels = false;
  std::unique_ptr<VersionRegistry> registry = VersionRegistry::InMemory();
  AdapterVersion current;
  std::shared_ptr<const CompiledAdapter> compiled;
  std::deque<int8_t> window_labels;  // per row of the shared window: 0/1, or -1 until labelled
  // Labelled rows delivered so far, newest at the back, at most kLabelMemoryRows: a labelled heal
  // also learns from those whose batch has left the window (labels arrive late, and a few
  // hundred labelled rows are too few to place a decision threshold).
  struct LabelledRow {
    size_t batch;
    std::vector<float> features;
    int8_t label;
  };
  std::deque<LabelledRow> label_memory;
  HealController controller{ControllerConfig{}};
  ArmSummary summary;
};

// Labelled rows a labelled arm keeps (the newest).
constexpr size_t kLabelMemoryRows = 2000;

struct PendingLabels {
  size_t batch;
  std::vector<int8_t> labels;  // per row of the batch, -1 where withheld
  std::vector<float> probs_at_scoring;  // what the arm said then (for health)
  std::vector<float> anchor_probs;      // what version 0 said on the same rows (paired health)
  uint64_t version_at_scoring = 0;      // the arm's version that scored the batch
};


// Delivers the labels that are due after batch `b` to a labelled arm: into its window and label
// memory, and to its controller as what the serving version and version 0 did on those rows.
void DeliverDueLabels(HealedArm& arm, std::deque<PendingLabels>& pending, size_t b, int label_delay,
                      const ScenarioData& data, const std::deque<size_t>& window_batch) {
  const size_t dims = data.train.dims();
  while (!pending.empty() && pending.front().batch + label_delay <= b) {
    const PendingLabels& due = pending.front();
    PairedOutcome outcome;
    for (size_t i = 0; i < due.labels.size(); ++i) {
      if (due.labels[i] < 0) continue;
      outcome.Add(due.probs_at_scoring[i] > 0.5f, due.anchor_probs[i] > 0.5f, due.labels[i] == 1);
    }
    // The window holds the last `held` rows of that batch, contiguously.
    size_t first = 0, held = 0;
    while (first < window_batch.size() && window_batch[first] != due.batch) ++first;
    while (first + held < window_batch.size() && window_batch[first + held] == due.batch) ++held;
    for (size_t j = 0; j < held; ++j) arm.window_labels[first + j] = due.labels[data.batch_size - held + j];
    const float* due_rows = data.stream.features.data() + due.batch * data.batch_size * dims;
    for (size_t i = 0; i < due.labels.size(); ++i) {
      if (due.labels[i] < 0) continue;
      arm.label_memory.push_back({due.batch, {due_rows + i * dims, due_rows + (i + 1) * dims}, due.labels[i]});
    }
    while (arm.label_memory.size() > kLabelMemoryRows) arm.label_memory.pop_front();
    arm.controller.ObserveLabels({due.version_at_scoring, due.batch * data.batch_size, outcome});
    pending.pop_front();
  }
}
}  // namespace

Result<SimResult> RunExperiment(const ScenarioData& data, const ExperimentOptions& opt) {
  const size_t dims = data.train.dims();
  const BatchView train_view{data.train.features.data(), data.train.rows(), dims};
  REFLEX_RETURN_IF_ERROR(opt.policy.Validate());

  // The deployed model: the one given (a user's bundle), or the built-in MLP trained here.
  TrainConfig train_config;
  train_config.seed = opt.seed;
  std::shared_ptr<const HealableModel> model = opt.deployed;
  if (model) {
    if (model->num_classes() >= 2) {
      return Status::InvalidArgument("the model has a " + std::to_string(model->num_classes()) +
                                     "-class head; reflex-sim's tabular experiment heals binary models only (K-class heals "
                                     "run in its image experiment, --dataset, whose healer this mode does not reach yet)");
    }
    if (model->spec().feature_names != data.train.feature_names) {
      return Status::InvalidArgument("the deployed model's features differ from the clean data's columns");
    }
  } else {
    auto model_or = HealableModel::CreateMlp(data.train.feature_names, opt.seed);
    if (!model_or.ok()) return model_or.status();
    REFLEX_RETURN_IF_ERROR(TrainMlp(**model_or, train_view, data.train.labels.data(), train_config).WithContext("training the deployed model"));
    model = *model_or;
  }

  RuleSet rules;
  if (!data.rules_text.empty()) {
    auto parsed = RuleSet::Parse(data.rules_text, data.train.feature_names, "rules");
    if (!parsed.ok()) return parsed.status();
    rules = std::move(*parsed);
  }
  auto cal_or = Calibrate(*model, train_view, data.train.labels.data(), &rules);
  if (!cal_or.ok()) return cal_or.status();
  const HealCalibration cal = std::move(*cal_or);
  // FIDI reads the newest min_rows rows (whole batches): the evidence that declares a drift is
  // as much as a heal needs, and the drift is seen as soon as those rows are drifted.
  const size_t fidi_batches = std::max<size_t>(1, (static_cast<size_t>(opt.policy.min_rows) + data.batch_size - 1) / data.batch_size);
  FidiConfig fidi_config{fidi_batches, opt.policy.fidi_threshold, fidi_batches};
  auto fidi_or = FidiMonitor::Calibrate(train_view.data, train_view.rows, dims, data.monitored, fidi_config);
  if (!fidi_or.ok()) return fidi_or.status();
  FidiMonitor fidi = std::move(*fidi_or);
  // The newest batch alone: when it reads clean, the drift may be over (the window lags).
  FidiMonitor fidi_newest(fidi.calibration(), dims, FidiConfig{1, opt.policy.fidi_threshold, 1});

  std::shared_ptr<HealableModel> oracle;
  if (data.oracle_train) {
    auto o = HealableModel::CreateMlp(data.train.feature_names, opt.seed + 1000);
    if (!o.ok()) return o.status();
    oracle = *o;
    TrainConfig oc = train_config;
    oc.seed = opt.seed + 1000;
    const LabeledData& od = *data.oracle_train;
    REFLEX_RETURN_IF_ERROR(TrainMlp(*oracle, {od.features.data(), od.rows(), dims}, od.labels.data(), oc).WithContext("training the oracle"));
  }
  auto frozen_compiled = model->Compile(model->initial_adapter());
  if (!frozen_compiled.ok()) return frozen_compiled.status();
  // The deployed model's accuracy on its clean data: the reference for label-driven drift.
  // And the EM prior estimate on its own clean posteriors: the reference for the stream's.
  double clean_accuracy = 0, clean_prior_estimate = 0;
  {
    std::vector<float> p(train_view.rows);
    REFLEX_RETURN_IF_ERROR(model->Score(**frozen_compiled, train_view, p.data()));
    Confusion c;
    for (size_t i = 0; i < train_view.rows; ++i) c.Add(p[i] > 0.5f, data.train.labels[i] == 1);
    clean_accuracy = c.accuracy();
    clean_prior_estimate = EstimateStreamPrior(cal.clean, p.data(), train_view.rows).prior;
  }
  std::shared_ptr<const CompiledAdapter> oracle_compiled;
  if (oracle) oracle_compiled = *oracle->Compile(oracle->initial_adapter());

  SimResult result;
  result.scenario = data.name;
  result.seed = opt.seed;
  result.batch_size = data.batch_size;
  result.fidi_threshold = opt.policy.fidi_threshold;
  result.cost_fp = opt.cost_fp;
  result.cost_fn = opt.cost_fn;

  std::vector<HealedArm> arms(2);
  arms[0].name = "healed_labels";
  arms[0].uses_labels = true;
  arms[1].name = "healed_label_free";
  ControllerConfig controller_config =
      ControllerConfig::FromPolicy(opt.policy, cal.clean.train_prior, clean_accuracy, false, data.batch_size);
  controller_config.clean_prior_estimate = clean_prior_estimate;
  for (HealedArm& arm : arms) {
    arm.current = model->initial_adapter();
    arm.compiled = *frozen_compiled;
    arm.controller = HealController(controller_config);
    REFLEX_RETURN_IF_ERROR(arm.registry->Put({arm.current, "initial: trained on clean data", 0, {}}));
  }
  ArmSummary frozen_summary, oracle_summary;
  frozen_summary.name = "frozen";
  frozen_summary.labels_used = "none";
  oracle_summary.name = "oracle";
  oracle_summary.labels_used = "5000 labelled drifted rows, before the stream";
  arms[0].summary.name = arms[0].name;
  arms[0].summary.labels_used = Fmt(opt.label_fraction * 100, 0) + "% of rows, " + std::to_string(opt.label_delay) + " batch(es) late";
  arms[1].summary.name = arms[1].name;
  arms[1].summary.labels_used = "none";

  std::mt19937_64 label_rng(opt.seed * 31 + 7);
  std::deque<PendingLabels> pending;
  const size_t n_batches = data.stream.rows() / data.batch_size;
  std::vector<float> probs(data.batch_size), anchor_probs(data.batch_size);
  // The recent rows every healed arm learns from (the arms differ only in the labels they see).
  std::deque<std::vector<float>> window_rows;  // one entry per row
  std::deque<size_t> window_batch;             // batch each row came from

  for (size_t b = 0; b < n_batches; ++b) {
    const float* rows = data.stream.features.data() + b * data.batch_size * dims;
    const uint8_t* truth = data.stream.labels.data() + b * data.batch_size;
    const BatchView view{rows, data.batch_size, dims};
    BatchRecord record;
    record.batch = b;
    auto score_arm = [&](const HealableModel& m, const CompiledAdapter& a, ArmSummary& s, uint64_t version) -> Status {
      REFLEX_RETURN_IF_ERROR(m.Score(a, view, probs.data()));
      Confusion c;
      for (size_t i = 0; i < data.batch_size; ++i) c.Add(probs[i] > 0.5f, truth[i] == 1);
      s.confusion.Merge(c);
      record.arms[s.name] = ArmBatch{c.accuracy(), c.f1(), version, ""};
      return Status();
    };
    // 1. Prequential scoring with the versions held before this batch.
    REFLEX_RETURN_IF_ERROR(score_arm(*model, **frozen_compiled, frozen_summary, 0));
    anchor_probs = probs;
    if (!rules.empty()) {
      RuleSet::BatchStats st = rules.Evaluate(rows, data.batch_size, anchor_probs.data(), 0.5);
      for (uint64_t c : st.conflicts) record.conflicts += c;
    }
    std::vector<std::vector<float>> arm_probs(arms.size());
    for (size_t k = 0; k < arms.size(); ++k) {
      REFLEX_RETURN_IF_ERROR(score_arm(*model, *arms[k].compiled, arms[k].summary, arms[k].current.version));
      arm_probs[k] = probs;
    }
    if (oracle) {
      const bool clean_batch = b < data.batch_is_clean.size() && data.batch_is_clean[b];
      REFLEX_RETURN_IF_ERROR(clean_batch ? score_arm(*model, **frozen_compiled, oracle_summary, 0)
                                         : score_arm(*oracle, *oracle_compiled, oracle_summary, 0));
    }

    // 2. Drift signals.
    FidiReading reading = fidi.Observe(rows, data.batch_size);
    const FidiReading newest = fidi_newest.Observe(rows, data.batch_size);
    record.fidi_z = reading.max_z;
    record.drift = reading.drift;

    // 3. Labels: decide which rows of this batch will be labelled, deliver those that are due.
    std::vector<int8_t> batch_labels(data.batch_size, -1);
    for (size_t i = 0; i < data.batch_size; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(label_rng) < opt.label_fraction) batch_labels[i] = truth[i];
    }
    pending.push_back({b, batch_labels, arm_probs[0], anchor_probs, arms[0].current.version});

    for (size_t i = 0; i < data.batch_size; ++i) {
      window_rows.emplace_back(rows + i * dims, rows + (i + 1) * dims);
      window_batch.push_back(b);
    }
    while (window_rows.size() > static_cast<size_t>(opt.policy.window_rows)) {
      window_rows.pop_front();
      window_batch.pop_front();
    }
    const size_t window_n = window_rows.size();
    std::vector<float> window_flat;
    window_flat.reserve(window_n * dims);
    for (const auto& row : window_rows) window_flat.insert(window_flat.end(), row.begin(), row.end());
    // The prior estimate from the deployed model's posteriors over the window: has the prior moved?
    std::vector<float> window_probs(window_n);
    REFLEX_RETURN_IF_ERROR(model->Score(**frozen_compiled, {window_flat.data(), window_n, dims}, window_probs.data()));
    const PriorEstimate window_prior = EstimateStreamPrior(cal.clean, window_probs.data(), window_n);

    for (size_t k = 0; k < arms.size(); ++k) {
      HealedArm& arm = arms[k];
      ArmBatch& shown = record.arms[arm.name];
      arm.window_labels.resize(arm.window_labels.size() + data.batch_size, -1);
      while (arm.window_labels.size() > window_n) arm.window_labels.pop_front();
      if (arm.uses_labels) DeliverDueLabels(arm, pending, b, opt.label_delay, data, window_batch);
      DriftObservation seen;
      seen.now = static_cast<int64_t>(b);
      seen.rows = data.batch_size;
      seen.fidi_z = reading.drift ? reading.max_z : 0.0;
      seen.fidi_z_now = newest.max_z;
      if (!rules.empty()) seen.conflict_rate = static_cast<double>(record.conflicts) / data.batch_size;
      if (window_n >= static_cast<size_t>(opt.policy.min_rows)) {
        seen.prior_estimate = window_prior.prior;
        seen.prior_estimate_se = window_prior.standard_error;
      }
      arm.controller.ObserveDrift(seen);

      const Decision decision = arm.controller.Decide(static_cast<int64_t>(b));
      if (decision.action == Action::kRollback || decision.action == Action::kReturnToAnchor) {
        const uint64_t from = arm.current.version, target = decision.target;
        arm.current = arm.registry->Get(target)->adapter;
        arm.compiled = *model->Compile(arm.current);
        arm.controller.ObserveActive(target, target, Origin::kController);
        arm.summary.rollbacks++;
        shown.action = "rollback v" + std::to_string(target);
        result.events.push_back({b, arm.name, "rollback", target, from, decision.reason, {}});
        continue;
      }
      if (decision.action == Action::kNone) {
        if (!decision.reason.empty()) result.events.push_back({b, arm.name, "note", arm.current.version, arm.current.version, decision.reason, {}});
        continue;
      }

      // 4. Heal, on the rows (and labels) from after the drift's onset only.
      const size_t since_batch = decision.since_row / data.batch_size;
      HealJob job;
      job.base = arm.current;
      for (size_t i = 0; i < window_n; ++i) {
        if (window_batch[i] < since_batch) continue;
        job.rows.insert(job.rows.end(), window_rows[i].begin(), window_rows[i].end());
        if (arm.uses_labels) job.labels.push_back(arm.window_labels[i]);
        ++job.n_rows;
      }
      if (arm.uses_labels) {
        for (const HealedArm::LabelledRow& row : arm.label_memory) {
          if (row.batch < since_batch || row.batch >= window_batch.front()) continue;
          job.rows.insert(job.rows.end(), row.features.begin(), row.features.end());
          job.labels.push_back(row.label);
          ++job.n_rows;
        }
        if (std::none_of(job.labels.begin(), job.labels.end(), [](int8_t l) { return l >= 0; })) job.labels.clear();
      }
      job.rules = rules.empty() ? nullptr : &rules;
      job.policy = opt.policy;
      job.new_version = arm.registry->LatestVersion() + 1;
      job.seed = opt.seed * 1000003 + b;
      arm.controller.HealStarted(static_cast<int64_t>(b));
      auto healed = Heal(*model, cal, job);
      if (!healed.ok()) return healed.status().WithContext(arm.name + " heal after batch " + std::to_string(b));
      const HealReport& rep = healed->report;
      std::map<std::string, double> details = rep.Metrics();
      details.erase("duration_ms");  // wall-clock time: would make the same seed give different output
      details["fidi_z"] = reading.max_z;
      details["prior_estimate"] = window_prior.prior;
      details["heal_rows"] = static_cast<double>(job.n_rows);
      std::string why = decision.reason + "; " + rep.diagnosis.explanation + "; " + rep.reason;
      if (!healed->candidate) {
        arm.controller.HealFinished(std::nullopt);
        arm.summary.rejections++;
        shown.action = "reject";
        result.events.push_back({b, arm.name, "rejection", job.new_version, arm.current.version, why, details});
        continue;
      }
      VersionRecord rec{*healed->candidate, "heal: " + why, static_cast<int64_t>(b), details};
      REFLEX_RETURN_IF_ERROR(arm.registry->Put(rec));
      arm.current = *healed->candidate;
      arm.compiled = *model->Compile(arm.current);
      arm.controller.HealFinished(arm.current.version);
      arm.summary.heal_events++;
      shown.action = "heal v" + std::to_string(arm.current.version);
      result.events.push_back({b, arm.name, "heal", arm.current.version, rec.adapter.parent, why, details});
    }
    result.batches.push_back(std::move(record));
  }

  for (HealedArm& arm : arms) arm.summary.final_version = arm.current.version;
  result.arm_order = {"frozen", "healed_labels", "healed_label_free"};
  result.arms["frozen"] = frozen_summary;
  result.arms["healed_labels"] = arms[0].summary;
  result.arms["healed_label_free"] = arms[1].summary;
  if (oracle) {
    result.arm_order.push_back("oracle");
    result.arms["oracle"] = oracle_summary;
  }
  if (opt.cost_fp && opt.cost_fn) {
    for (auto& [name, arm] : result.arms) {
      const Confusion& c = arm.confusion;
      arm.cost_per_1000 = c.total() ? 1000.0 * (c.fp * *opt.cost_fp + c.fn * *opt.cost_fn) / c.total() : 0.0;
    }
  }
  if (data.is_seed) {
    SeedFrontier frontier;
    for (auto& [name, arm] : result.arms) arm.bayes_frontier_f1 = frontier.BestF1AtAccuracy(arm.confusion.accuracy());
    PublishedFigures published;
    published.bayes_ceiling_accuracy = frontier.BayesAccuracy();
    result.published = published;
  }
  return result;
}

}  // namespace reflex::sim
