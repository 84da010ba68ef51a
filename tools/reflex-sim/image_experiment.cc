#include "image_experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>

#include "control/heal_controller.h"
#include "core/fidi.h"
#include "core/image_centroid.h"
#include "core/registry.h"
#include "model/compute_threads.h"
#include "class_confusion.h"
#include "image_classes.h"
#include "corruptions.h"
#include "idx_files.h"
#include "image_models.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"
#include "model/trainer.h"

namespace reflex::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

CnnCacheSettings CacheSettingsOf(const ImageExperimentOptions& opt) {
  CnnCacheSettings c;
  c.dataset = opt.dataset;
  c.cache_dir = opt.cache_dir;
  c.epochs = opt.epochs;
  c.log = opt.log;
  return c;
}

size_t Argmax(const float* p, size_t k) { return static_cast<size_t>(std::max_element(p, p + k) - p); }

struct Arm {
  std::string name;
  bool uses_labels = false;
  HealPolicy policy;
  std::unique_ptr<VersionRegistry> registry = VersionRegistry::InMemory();
  AdapterVersion current;
  std::shared_ptr<const CompiledAdapter> compiled;
  ClassConfusion confusion;
  ArmSummary summary;
  control::HealController controller{control::ControllerConfig{}};  // the cluster's controller
  std::vector<uint8_t> predicted;  // the class this arm gave each streamed row, as served
  std::vector<uint64_t> served;    // the version that scored each batch
};

}  // namespace

HealPolicy DefaultImagePolicy() {
  HealPolicy p;
  p.window_rows = 1000;
  p.min_rows = 500;
  p.cooldown_batches = 4;
  // The target (image intensity re-standardised, then the backbone output re-standardised) is
  // a nonlinear map of the adapter's input: distilling it takes about a hundred steps; later
  // heals continue from the last accepted version.
  p.align_inputs = 1;
  p.distill_steps = 100;
  p.distill_lr = 0.01;
  p.w_distill = 1.0;
  p.w_entropy = 0.1;
  p.entropy_filter = 0.4 * std::log(10.0);
  p.w_diversity = 1.0;
  p.w_label = 1.0;
  p.w_rule = 0.5;  // only with --rules
  p.w_proximal = 0.0;
  p.holdout_fraction = 0.2;
  p.max_class_tv = 0.25;
  p.max_label_loss_ratio = 1.02;
  return p;
}

HealPolicy LabelledImagePolicy(const HealPolicy& label_free) {
  HealPolicy p = label_free;
  // With labels, more steps: cross-entropy over every labelled row delivered so far (up to
  // max_labelled_rows beyond the window) moves the adapter beyond the closed-form target, which
  // the healer weights by how well it agrees with the labels; the held-out labelled loss in the
  // gate guards against harm.
  p.distill_steps = std::max(p.distill_steps, 150);
  p.distill_lr = std::max(p.distill_lr, 0.01);
  return p;
}

Result<SimResult> RunImageExperiment(const ImageExperimentOptions& opt) {
  const auto run_started = Clock::now();
  REFLEX_RETURN_IF_ERROR(opt.policy.Validate());
  SetComputeThreads(opt.threads);
  auto train_or = ReadIdxDataset(opt.train_images, opt.train_labels, opt.train_limit);
  if (!train_or.ok()) return train_or.status();
  auto stream_or = ReadIdxDataset(opt.stream_images, opt.stream_labels, opt.stream_limit);
  if (!stream_or.ok()) return stream_or.status();
  const IdxDataset& train = *train_or;
  IdxDataset stream = std::move(*stream_or);
  if (stream.images.height != train.images.height || stream.images.width != train.images.width) {
    return Status::InvalidArgument(opt.stream_images + ": images are " + std::to_string(stream.images.height) + "x" +
                                   std::to_string(stream.images.width) + ", the training images " + opt.train_images + " are " +
                                   std::to_string(train.images.height) + "x" + std::to_string(train.images.width));
  }
  if (train.num_classes < 2) return Status::InvalidArgument(opt.train_labels + ": needs at least 2 classes");
  for (uint8_t l : stream.labels) {
    if (l >= train.num_classes) {
      return Status::InvalidArgument(opt.stream_labels + ": label " + std::to_string(l) + " was not seen in training (" +
                                     std::to_string(train.num_classes) + " classes)");
    }
  }
  const size_t k = static_cast<size_t>(train.num_classes);
  const size_t dims = train.images.pixels_per_image();
  auto class_names = ImageClassNames(opt.class_names, opt.dataset, k);
  if (!class_names.ok()) return class_names.status();
  std::optional<RuleSet> rules;
  if (!opt.rules_path.empty()) {
    auto loaded = LoadImageRules(opt.rules_path, dims, *class_names);
    if (!loaded.ok()) return loaded.status();
    rules = std::move(*loaded);
  }
  HealPolicy label_policy = LabelledImagePolicy(opt.policy);
  for (const std::string& kv : opt.label_policy_overrides) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("--label-policy '" + kv + "': expected KEY=VALUE");
    REFLEX_RETURN_IF_ERROR(label_policy.Set(kv.substr(0, eq), kv.substr(eq + 1)).WithContext("--label-policy"));
  }
  if (stream.images.count < opt.batch_size) {
    return Status::InvalidArgument(opt.stream_images + ": " + std::to_string(stream.images.count) +
                                   " images is less than one batch of " + std::to_string(opt.batch_size));
  }
  // Corrupt the stream (and, for the oracle, a copy of the training images with another seed).
  REFLEX_RETURN_IF_ERROR(CorruptImages(opt.corruption, opt.severity, opt.seed, stream.images.pixels.data(), stream.images.count,
                                       stream.images.height, stream.images.width));

  auto model_or = TrainedCnn(CacheSettingsOf(opt), train, train.images.pixels, "backbone", opt.seed);
  if (!model_or.ok()) return model_or.status();
  std::shared_ptr<HealableModel> model = *model_or;
  std::shared_ptr<HealableModel> oracle;
  const bool corrupted = opt.corruption != "none";
  if (opt.oracle && corrupted) {
    std::vector<float> pixels = train.images.pixels;
    REFLEX_RETURN_IF_ERROR(CorruptImages(opt.corruption, opt.severity, opt.seed + 7919, pixels.data(), train.images.count,
                                         train.images.height, train.images.width));
    auto o = TrainedCnn(CacheSettingsOf(opt), train, pixels, "oracle-" + opt.corruption + "-s" + std::to_string(opt.severity), opt.seed + 1000);
    if (!o.ok()) return o.status();
    oracle = *o;
  }
  // The stream's operations are small (a batch of 100, a 128-wide adapter): on a busy machine
  // extra intra-op threads mostly wait for each other, so everything after training runs on one.
  SetComputeThreads(1);
  const auto stream_started = Clock::now();

  // Calibration on up to 10,000 evenly spaced clean training images.
  const size_t cal_rows = std::min<size_t>(10000, train.images.count);
  std::vector<float> cal_pixels;
  std::vector<uint8_t> cal_labels;
  for (size_t i = 0; i < cal_rows; ++i) {
    const size_t r = i * train.images.count / cal_rows;
    cal_pixels.insert(cal_pixels.end(), train.images.pixels.begin() + r * dims, train.images.pixels.begin() + (r + 1) * dims);
    cal_labels.push_back(train.labels[r]);
  }
  auto cal_or = Calibrate(*model, {cal_pixels.data(), cal_rows, dims}, cal_labels.data(), rules ? &*rules : nullptr);
  if (!cal_or.ok()) return cal_or.status();
  const HealCalibration cal = std::move(*cal_or);
  const size_t width = model->adapter_dims().width;
  // FIDI on the backbone outputs: every unit alive on clean data.
  std::vector<size_t> monitored;
  for (size_t d = 0; d < width; ++d) {
    if (cal.hidden_var[d] > 1e-8) monitored.push_back(d);
  }
  std::vector<float> cal_hidden(cal_rows * width);
  REFLEX_RETURN_IF_ERROR(model->Embed({cal_pixels.data(), cal_rows, dims}, cal_hidden.data()));
  FidiConfig fidi_config{10, opt.policy.fidi_threshold, 3};
  auto fidi_or = FidiMonitor::Calibrate(cal_hidden.data(), cal_rows, width, monitored, fidi_config);
  if (!fidi_or.ok()) return fidi_or.status();
  FidiMonitor fidi = std::move(*fidi_or);
  FidiMonitor fidi_newest(fidi.calibration(), width, FidiConfig{1, opt.policy.fidi_threshold, 1});  // newest batch alone

  auto frozen_compiled = model->Compile(model->initial_adapter());
  if (!frozen_compiled.ok()) return frozen_compiled.status();
  std::shared_ptr<const CompiledAdapter> oracle_compiled;
  if (oracle) oracle_compiled = *oracle->Compile(oracle->initial_adapter());

  std::vector<Arm> arms(3);
  arms[0].name = "healed_labels";
  arms[0].uses_labels = true;
  arms[0].policy = label_policy;
  arms[0].summary.labels_used = Fixed(opt.label_fraction * 100, 0) + "% of rows, " + std::to_string(opt.label_delay) + " batch(es) late";
  arms[1].name = "healed_label_free";
  arms[1].policy = opt.policy;
  arms[1].summary.labels_used = "none";
  arms[2].name = "entropy_only";
  arms[2].policy = opt.policy;
  arms[2].summary.labels_used = "none (Tent-style, no gate)";
  {
    HealPolicy& tent = arms[2].policy;
    tent.w_distill = 0;
    tent.w_label = 0;
    tent.w_diversity = 0;
    tent.w_rule = 0;
    tent.w_moment = 0;
    tent.w_proximal = 0;
    tent.w_entropy = 1.0;
    tent.entropy_filter = 10.0;  // every row
    tent.steps = tent.cooldown_batches + 1;  // about one step per batch, as Tent
    tent.lr = 0.001;
    tent.max_class_tv = 1.0;
    tent.max_moment_ratio = 100.0;
  }
  for (Arm& arm : arms) {
    arm.summary.name = arm.name;
    arm.current = model->initial_adapter();
    arm.compiled = *frozen_compiled;
    arm.confusion = ClassConfusion(k);
    REFLEX_RETURN_IF_ERROR(arm.registry->Put({arm.current, "initial: trained on clean images", 0, {}}));
  }
  ArmSummary frozen_summary, oracle_summary;
  frozen_summary.name = "frozen";
  frozen_summary.labels_used = "none";
  oracle_summary.name = "oracle";
  oracle_summary.labels_used = "all " + std::to_string(train.images.count) + " training images, corrupted";
  ClassConfusion frozen_confusion(k), oracle_confusion(k);
  // The deployed model's accuracy on clean (calibration) images: the controller's reference for
  // label-driven drift.
  double clean_accuracy = 0;
  {
    std::vector<float> p(cal_rows * k);
    REFLEX_RETURN_IF_ERROR(model->Score(**frozen_compiled, {cal_pixels.data(), cal_rows, dims}, p.data()));
    size_t right = 0;
    for (size_t i = 0; i < cal_rows; ++i) right += Argmax(p.data() + i * k, k) == cal_labels[i];
    clean_accuracy = static_cast<double>(right) / cal_rows;
  }
  for (Arm& arm : arms) {
    arm.controller = control::HealController(
        control::ControllerConfig::FromPolicy(arm.policy, 0.5, clean_accuracy, true, opt.batch_size));
  }

  SimResult result;
  result.scenario = opt.dataset + ":" + opt.corruption + (corrupted ? "-s" + std::to_string(opt.severity) : "");
  result.seed = opt.seed;
  result.batch_size = opt.batch_size;
  result.fidi_threshold = opt.policy.fidi_threshold;
  result.num_classes = static_cast<uint32_t>(k);

  const size_t n_batches = stream.images.count / opt.batch_size;
  const size_t bs = opt.batch_size;
  std::vector<float> hidden(n_batches * bs * width);  // backbone output of every streamed row
  std::vector<int8_t> delivered(n_batches * bs, -1);  // labels that have reached the labelled arm
  std::vector<uint8_t> frozen_pred(n_batches * bs);   // version 0's class for every streamed row
  std::vector<std::vector<int8_t>> chosen;            // per batch: the labels it will deliver
  std::mt19937_64 label_rng(opt.seed * 31 + 7);
  std::vector<float> probs(bs * k);
  double heal_seconds = 0;

  for (size_t b = 0; b < n_batches; ++b) {
    const float* rows = stream.images.pixels.data() + b * bs * dims;
    const uint8_t* truth = stream.labels.data() + b * bs;
    float* h = hidden.data() + b * bs * width;
    REFLEX_RETURN_IF_ERROR(model->Embed({rows, bs, dims}, h));
    BatchRecord record;
    record.batch = b;
    auto tally = [&](ClassConfusion& total, ArmSummary& s, uint64_t version) {
      ClassConfusion c(k);
      for (size_t i = 0; i < bs; ++i) {
        const size_t pred = Argmax(probs.data() + i * k, k);
        c.Add(truth[i], pred);
        s.confusion.Add(pred == truth[i], true);
      }
      total.Merge(c);
      uint64_t correct = 0;
      for (size_t i = 0; i < k; ++i) correct += c.counts[i * k + i];
      record.arms[s.name] = ArmBatch{static_cast<double>(correct) / bs, c.MacroF1(), version, ""};
    };
    // 1. Prequential scoring with the versions held before this batch.
    REFLEX_RETURN_IF_ERROR(model->ScoreEmbedded(**frozen_compiled, {h, bs, width}, probs.data()));
    for (size_t i = 0; i < bs; ++i) frozen_pred[b * bs + i] = static_cast<uint8_t>(Argmax(probs.data() + i * k, k));
    if (rules) {  // class rules that fire on a row the deployed model puts in another class
      for (uint64_t c : rules->EvaluateClasses(rows, bs, probs.data()).conflicts) record.conflicts += c;
    }
    tally(frozen_confusion, frozen_summary, 0);
    for (Arm& arm : arms) {
      REFLEX_RETURN_IF_ERROR(model->ScoreEmbedded(*arm.compiled, {h, bs, width}, probs.data()));
      tally(arm.confusion, arm.summary, arm.current.version);
      arm.served.push_back(arm.current.version);
      arm.predicted.resize(n_batches * bs);
      for (size_t i = 0; i < bs; ++i) arm.predicted[b * bs + i] = static_cast<uint8_t>(Argmax(probs.data() + i * k, k));
    }
    if (oracle) {
      REFLEX_RETURN_IF_ERROR(oracle->Score(*oracle_compiled, {rows, bs, dims}, probs.data()));
      tally(oracle_confusion, oracle_summary, 0);
    }
    // 2. Drift on the backbone outputs, and on the images' positions (a translation can leave
    // the backbone's output moments where they were).
    FidiReading reading = fidi.Observe(h, bs);
    const FidiReading newest = fidi_newest.Observe(h, bs);
    record.fidi_z = reading.max_z;
    const double spread = CentroidSpread(rows, bs, train.images.height, train.images.width, cal.centre);
    const bool moved = CentroidsScattered(spread, cal.centre_spread, opt.policy.recentre_factor);
    record.drift = reading.drift || moved;
    // 3. Labels: choose this batch's labelled rows; deliver those that are due.
    std::vector<int8_t> labels(bs, -1);
    for (size_t i = 0; i < bs; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(label_rng) < opt.label_fraction) labels[i] = static_cast<int8_t>(truth[i]);
    }
    chosen.push_back(std::move(labels));
    if (b >= static_cast<size_t>(opt.label_delay)) {
      const size_t due = b - opt.label_delay;
      std::copy(chosen[due].begin(), chosen[due].end(), delivered.begin() + due * bs);
    }
    // 4. The controller's decisions, then heals on the rows since the drift's onset.
    const size_t seen = (b + 1) * bs;
    for (Arm& arm : arms) {
      ArmBatch& shown = record.arms[arm.name];
      if (arm.uses_labels && b >= static_cast<size_t>(opt.label_delay)) {
        const size_t due = b - opt.label_delay;
        control::PairedOutcome outcome;
        for (size_t i = due * bs; i < (due + 1) * bs; ++i) {
          if (delivered[i] < 0) continue;
          const auto truth_class = static_cast<uint8_t>(delivered[i]);
          outcome.AddCorrect(arm.predicted[i] == truth_class, frozen_pred[i] == truth_class);
        }
        arm.controller.ObserveLabels({arm.served[due], due * bs, outcome});
      }
      control::DriftObservation observed;
      observed.now = static_cast<int64_t>(b);
      observed.rows = bs;
      observed.fidi_z = reading.drift ? reading.max_z : 0.0;
      observed.fidi_z_now = newest.max_z;
      if (moved) observed.signal = "image centroids scattered (spread " + Fixed(spread, 2) + " px)";
      if (arm.policy.w_rule > 0 && rules) observed.conflict_rate = static_cast<double>(record.conflicts) / bs;
      arm.controller.ObserveDrift(observed);
      const control::Decision decision = arm.controller.Decide(static_cast<int64_t>(b));
      if (decision.action == control::Action::kRollback || decision.action == control::Action::kReturnToAnchor) {
        const uint64_t from = arm.current.version;
        arm.current = arm.registry->Get(decision.target)->adapter;
        auto compiled = model->Compile(arm.current);
        if (!compiled.ok()) return compiled.status();
        arm.compiled = *compiled;
        arm.controller.ObserveActive(decision.target, decision.target, control::Origin::kController);
        arm.summary.rollbacks++;
        shown.action = "rollback v" + std::to_string(decision.target);
        result.events.push_back({b, arm.name, "rollback", decision.target, from, decision.reason, {}});
        continue;
      }
      if (decision.action != control::Action::kHeal) {
        if (!decision.reason.empty()) result.events.push_back({b, arm.name, "note", arm.current.version, arm.current.version, decision.reason, {}});
        continue;
      }
      const size_t window_first = seen > static_cast<size_t>(arm.policy.window_rows) ? seen - arm.policy.window_rows : 0;
      const size_t first = std::max<size_t>(window_first, decision.since_row);
      HealJob job;
      job.base = arm.current;
      job.policy = arm.policy;
      job.new_version = arm.registry->LatestVersion() + 1;
      job.seed = opt.seed;  // the same for every heal: a labelled row keeps its train/holdout side
      job.hidden.assign(hidden.begin() + first * width, hidden.begin() + seen * width);
      job.n_rows = seen - first;
      const bool with_rules = rules && arm.policy.w_rule > 0;
      const bool with_rows = with_rules || (arm.policy.align_inputs && arm.policy.w_distill > 0);
      if (with_rules) job.rules = &*rules;
      if (with_rows) job.rows.assign(stream.images.pixels.begin() + first * dims, stream.images.pixels.begin() + seen * dims);
      if (arm.uses_labels) {
        job.labels.assign(delivered.begin() + first, delivered.begin() + seen);
        // Older labelled rows since the onset that have left the window, most recent first.
        size_t extra = 0;
        for (size_t i = first; i-- > decision.since_row && extra < opt.max_labelled_rows;) {
          if (delivered[i] < 0) continue;
          job.hidden.insert(job.hidden.end(), hidden.begin() + i * width, hidden.begin() + (i + 1) * width);
          if (with_rows) job.rows.insert(job.rows.end(), stream.images.pixels.begin() + i * dims, stream.images.pixels.begin() + (i + 1) * dims);
          job.labels.push_back(delivered[i]);
          ++job.n_rows;
          ++extra;
        }
      }
      arm.controller.HealStarted(static_cast<int64_t>(b));
      const auto heal_started = Clock::now();
      auto healed = Heal(*model, cal, job);
      heal_seconds += Seconds(heal_started);
      if (!healed.ok()) return healed.status().WithContext(arm.name + " heal after batch " + std::to_string(b));
      const HealReport& rep = healed->report;
      std::map<std::string, double> details = rep.Metrics();
      details.erase("duration_ms");
      details["fidi_z"] = reading.max_z;
      if (!healed->candidate) {
        arm.controller.HealFinished(std::nullopt);
        arm.summary.rejections++;
        shown.action = "reject";
        result.events.push_back({b, arm.name, "rejection", job.new_version, arm.current.version, decision.reason + "; " + rep.reason, details});
        continue;
      }
      REFLEX_RETURN_IF_ERROR(arm.registry->Put({*healed->candidate, "heal: " + rep.reason, static_cast<int64_t>(b), details}));
      arm.controller.HealFinished(healed->candidate->version);
      arm.current = *healed->candidate;
      auto compiled = model->Compile(arm.current);
      if (!compiled.ok()) return compiled.status();
      arm.compiled = *compiled;
      arm.summary.heal_events++;
      shown.action = "heal v" + std::to_string(arm.current.version);
      result.events.push_back({b, arm.name, "heal", arm.current.version, healed->candidate->parent, rep.reason, details});
    }
    result.batches.push_back(std::move(record));
  }

  frozen_summary.macro_f1 = frozen_confusion.MacroF1();
  result.arm_order = {"frozen", "healed_labels", "healed_label_free", "entropy_only"};
  result.arms["frozen"] = frozen_summary;
  for (Arm& arm : arms) {
    arm.summary.final_version = arm.current.version;
    arm.summary.macro_f1 = arm.confusion.MacroF1();
    result.arms[arm.name] = arm.summary;
  }
  if (oracle) {
    oracle_summary.macro_f1 = oracle_confusion.MacroF1();
    result.arm_order.push_back("oracle");
    result.arms["oracle"] = oracle_summary;
    const double f = frozen_summary.confusion.accuracy(), o = oracle_summary.confusion.accuracy();
    std::string line = "accuracy gap closed, (arm - frozen) / (oracle - frozen):";
    for (const char* name : {"healed_labels", "healed_label_free", "entropy_only"}) {
      const double a = result.arms[name].confusion.accuracy();
      line += std::string(" ") + name + " " + (o - f > 1e-9 ? Fixed((a - f) / (o - f), 2) : std::string("n/a"));
    }
    result.notes.push_back(line);
  }
  result.notes.push_back("stream: " + std::to_string(n_batches * bs) + " test images, corruption " + opt.corruption +
                         (corrupted ? " severity " + std::to_string(opt.severity) : "") + "; backbone trained on " +
                         std::to_string(train.images.count) + " clean images");
  if (opt.log) {
    *opt.log << "[time] stream " << Fixed(Seconds(stream_started), 1) << " s (heals " << Fixed(heal_seconds, 1)
             << " s), whole run " << Fixed(Seconds(run_started), 1) << " s\n";
  }
  return result;
}

}  // namespace reflex::sim
