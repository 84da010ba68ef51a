#include "experiment.h"

#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <sstream>

#include "bayes_frontier.h"
#include "core/fidi.h"
#include "core/health_monitor.h"
#include "core/label_shift.h"
#include "core/registry.h"
#include "core/rules.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"

namespace reflex::sim {

namespace {

std::string Fmt(double v, int digits = 3) {
  std::ostringstream out;
  out.precision(digits);
  out << std::fixed << v;
  return out.str();
}

// One healed arm: its versions, its window of recent rows, its health.
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
  HealthMonitor health;
  // What each post-heal version did on the labelled rows it served, beside version 0 on the same
  // rows: the record a health rollback chooses its target by.
  std::map<uint64_t, ServedRecord> served;
  int cooldown = 0;
  int quiet_batches = 0;
  double last_labelled_accuracy = -1;  // of the most recent labelled batch, by the version that scored it
  bool episode_open = false;
  ArmSummary summary;
};

// A labelled heal may start once this many labelled rows are in the window.
constexpr size_t kMinLabelledRows = 100;
// Labelled rows a labelled arm keeps (the newest).
constexpr size_t kLabelMemoryRows = 2000;

struct PendingLabels {
  size_t batch;
  std::vector<int8_t> labels;  // per row of the batch, -1 where withheld
  std::vector<float> probs_at_scoring;  // what the arm said then (for health)
  std::vector<float> anchor_probs;      // what version 0 said on the same rows (paired health)
  uint64_t version_at_scoring = 0;      // the arm's version that scored the batch
};

}  // namespace

Result<SimResult> RunExperiment(const ScenarioData& data, const ExperimentOptions& opt) {
  const size_t dims = data.train.dims();
  const BatchView train_view{data.train.features.data(), data.train.rows(), dims};
  REFLEX_RETURN_IF_ERROR(opt.policy.Validate());

  // Train the deployed model and calibrate.
  auto model_or = HealableModel::CreateMlp(data.train.feature_names, opt.seed);
  if (!model_or.ok()) return model_or.status();
  std::shared_ptr<HealableModel> model = *model_or;
  TrainConfig train_config;
  train_config.seed = opt.seed;
  REFLEX_RETURN_IF_ERROR(TrainMlp(*model, train_view, data.train.labels.data(), train_config).WithContext("training the deployed model"));

  RuleSet rules;
  if (!data.rules_text.empty()) {
    auto parsed = RuleSet::Parse(data.rules_text, data.train.feature_names, "rules");
    if (!parsed.ok()) return parsed.status();
    rules = std::move(*parsed);
  }
  auto cal_or = Calibrate(*model, train_view, data.train.labels.data(), &rules);
  if (!cal_or.ok()) return cal_or.status();
  const HealCalibration cal = std::move(*cal_or);
  FidiConfig fidi_config{opt.fidi_window, opt.policy.fidi_threshold, opt.fidi_min_batches};
  auto fidi_or = FidiMonitor::Calibrate(train_view.data, train_view.rows, dims, data.monitored, fidi_config);
  if (!fidi_or.ok()) return fidi_or.status();
  FidiMonitor fidi = std::move(*fidi_or);

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
  double clean_accuracy = 0;
  {
    std::vector<float> p(train_view.rows);
    REFLEX_RETURN_IF_ERROR(model->Score(**frozen_compiled, train_view, p.data()));
    Confusion c;
    for (size_t i = 0; i < train_view.rows; ++i) c.Add(p[i] > 0.5f, data.train.labels[i] == 1);
    clean_accuracy = c.accuracy();
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
  HealthConfig health_config{opt.policy.rollback_f1_drop, opt.policy.rollback_accuracy_drop,
                             static_cast<size_t>(opt.policy.rollback_window)};
  for (HealedArm& arm : arms) {
    arm.current = model->initial_adapter();
    arm.compiled = *frozen_compiled;
    arm.health = HealthMonitor(health_config);
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
    if (oracle) REFLEX_RETURN_IF_ERROR(score_arm(*oracle, *oracle_compiled, oracle_summary, 0));

    // 2. Drift signals.
    FidiReading reading = fidi.Observe(rows, data.batch_size);
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
    // EM on the deployed model's posteriors over the window: has the prior moved?
    std::vector<float> window_probs(window_n);
    REFLEX_RETURN_IF_ERROR(model->Score(**frozen_compiled, {window_flat.data(), window_n, dims}, window_probs.data()));
    const double em_prior = EstimatePriorEm(window_probs.data(), window_n, cal.clean.train_prior).prior;
    const bool prior_moved = window_n >= static_cast<size_t>(opt.policy.min_rows) &&
                             std::fabs(em_prior - cal.clean.train_prior) > opt.policy.prior_shift_threshold;

    for (size_t k = 0; k < arms.size(); ++k) {
      HealedArm& arm = arms[k];
      ArmBatch& shown = record.arms[arm.name];
      arm.window_labels.resize(arm.window_labels.size() + data.batch_size, -1);
      while (arm.window_labels.size() > window_n) arm.window_labels.pop_front();
      if (arm.uses_labels) {
        while (!pending.empty() && pending.front().batch + opt.label_delay <= b) {
          const PendingLabels& due = pending.front();
          Confusion c, c0;  // the arm, and version 0 on the same rows
          for (size_t i = 0; i < due.labels.size(); ++i) {
            if (due.labels[i] < 0) continue;
            c.Add(due.probs_at_scoring[i] > 0.5f, due.labels[i] == 1);
            c0.Add(due.anchor_probs[i] > 0.5f, due.labels[i] == 1);
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
          if (c.total() > 0) {
            arm.last_labelled_accuracy = c.accuracy();
            // Health compares the healed version with version 0 on the same labelled rows.
            if (arm.episode_open && due.version_at_scoring != 0) {
              arm.health.ObserveCountsAgainst(c, c0);
            }
            if (due.version_at_scoring != 0) {
              ServedRecord& record = arm.served[due.version_at_scoring];
              record.served.Merge(c);
              record.reference.Merge(c0);
            }
          }
          pending.pop_front();
        }
      }

      // Drift is on when FIDI says so, when rule conflicts are frequent, or when EM on the
      // deployed model's posteriors says the prior moved.
      double conflict_rate = static_cast<double>(record.conflicts) / data.batch_size;
      bool drift_on = reading.drift || prior_moved || (!rules.empty() && conflict_rate > opt.policy.conflict_threshold);
      // Labels, when they arrive, are a drift signal of their own: the labelled prior moved, or the
      // deployed model's labelled accuracy fell below its clean accuracy by the rollback margin.
      size_t labelled_in_window = 0, positives_in_window = 0;
      for (int8_t l : arm.window_labels) {
        if (l >= 0) { ++labelled_in_window; positives_in_window += l; }
      }
      // Remembered labelled rows whose batch has left the window count too.
      std::vector<const HealedArm::LabelledRow*> remembered;
      for (const auto& row : arm.label_memory) {
        if (row.batch < window_batch.front()) {
          remembered.push_back(&row);
          ++labelled_in_window;
          positives_in_window += row.label;
        }
      }
      bool labels_ready = arm.uses_labels && labelled_in_window >= kMinLabelledRows;
      if (labels_ready) {
        double q = static_cast<double>(positives_in_window) / labelled_in_window;
        bool labelled_prior_moved = std::fabs(q - cal.clean.train_prior) > opt.policy.prior_shift_threshold;
        bool labelled_degraded = arm.current.version == 0 && arm.last_labelled_accuracy >= 0 &&
                                 arm.last_labelled_accuracy < clean_accuracy - opt.policy.rollback_accuracy_drop;
        drift_on = drift_on || labelled_prior_moved || labelled_degraded;
      }
      arm.quiet_batches = drift_on ? 0 : arm.quiet_batches + 1;

      // Rollbacks first: health (labels) or drift gone (both arms).
      if (arm.uses_labels && arm.episode_open && arm.health.Check() == HealthVerdict::kDegraded) {
        uint64_t from = arm.current.version;
        // Degraded means this version did worse than version 0 on the same rows. Go back to the
        // best post-heal version whose own served record passes the same test (most accurate
        // among those with enough labelled rows), else to version 0.
        const uint64_t target = HealthyRollbackTarget(arm.served, from, kMinLabelledRows, health_config);
        arm.current = arm.registry->Get(target)->adapter;
        arm.compiled = *model->Compile(arm.current);
        arm.summary.rollbacks++;
        arm.cooldown = opt.policy.rollback_window;
        arm.episode_open = target != 0;  // a post-heal version stays under watch
        std::string why = "health: " + arm.health.Explain();
        if (target != 0) {
          const ServedRecord& record = arm.served.at(target);
          why += "; back to v" + std::to_string(target) + ", the most accurate post-heal version that passes on the rows it served (" +
                 Fmt(record.served.accuracy()) + " accuracy, F1 " + Fmt(record.served.f1()) + " over " +
                 std::to_string(record.served.total()) + " rows)";
        } else {
          why += "; back to v0: no post-heal version passes on the rows it served";
        }
        arm.health.Reset();
        shown.action = "rollback v" + std::to_string(target);
        result.events.push_back({b, arm.name, "rollback", target, from, why, {}});
        continue;
      }
      if (arm.current.version != 0 && arm.quiet_batches >= opt.policy.drift_gone_batches) {
        uint64_t from = arm.current.version;
        arm.current = arm.registry->Get(0)->adapter;
        arm.compiled = *model->Compile(arm.current);
        arm.summary.rollbacks++;
        arm.episode_open = false;
        shown.action = "rollback v0";
        result.events.push_back({b, arm.name, "rollback", 0, from,
                                 "drift gone: no drift signal for " + std::to_string(arm.quiet_batches) + " batches", {}});
        continue;
      }
      if (arm.cooldown > 0) { --arm.cooldown; continue; }
      const bool enough_rows = window_n >= static_cast<size_t>(opt.policy.min_rows) || labels_ready;
      if (!drift_on || opt.policy.mode != HealMode::kAuto || !enough_rows) continue;

      // 4. Heal.
      HealJob job;
      job.base = arm.current;
      job.rows = window_flat;
      job.n_rows = window_n;
      if (arm.uses_labels) {
        job.labels.assign(arm.window_labels.begin(), arm.window_labels.end());
        for (const HealedArm::LabelledRow* row : remembered) {
          job.rows.insert(job.rows.end(), row->features.begin(), row->features.end());
          job.labels.push_back(row->label);
        }
        job.n_rows += remembered.size();
      }
      job.rules = rules.empty() ? nullptr : &rules;
      job.policy = opt.policy;
      job.new_version = arm.registry->LatestVersion() + 1;
      job.seed = opt.seed * 1000003 + b;
      auto healed = Heal(*model, cal, job);
      if (!healed.ok()) return healed.status().WithContext(arm.name + " heal after batch " + std::to_string(b));
      const HealReport& rep = healed->report;
      std::map<std::string, double> details = rep.Metrics();
      details.erase("duration_ms");  // wall-clock time: would make the same seed give different output
      details["fidi_z"] = reading.max_z;
      details["em_prior"] = em_prior;
      std::string why = rep.diagnosis.explanation + "; " + rep.reason;
      if (!healed->candidate) {
        arm.summary.rejections++;
        shown.action = "reject";
        result.events.push_back({b, arm.name, "rejection", job.new_version, arm.current.version, why, details});
        continue;
      }
      arm.episode_open = true;
      VersionRecord rec{*healed->candidate, "heal: " + why, static_cast<int64_t>(b), details};
      REFLEX_RETURN_IF_ERROR(arm.registry->Put(rec));
      arm.current = *healed->candidate;
      arm.compiled = *model->Compile(arm.current);
      arm.summary.heal_events++;
      arm.cooldown = opt.policy.cooldown_batches;
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
