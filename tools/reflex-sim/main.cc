// reflex-sim: the single-process heal experiment. See docs/RESULTS.md and experiment.h.
//
//   reflex-sim --scenario seed|recalibration|prior [--seed N] [--out DIR]
//   reflex-sim --train TRAIN.csv --stream STREAM.csv --label COLUMN [--rules FILE]
//              [--monitor COL,...] [--batch-size 100] [--label-delay B] [--label-fraction F]
//              [--seed N] [--out DIR]
//   reflex-sim --model BUNDLE --stream STREAM.csv --label COLUMN [the options of --train but
//              --rules and --monitor, which the bundle holds]
//              your own network (a bundle of reflex-bundle --model): every arm runs it, the
//              frozen arm at version 0 (scores equal to PyTorch's); no training; binary heads
//   reflex-sim --dataset fashion-mnist --corruption NAME --severity 1..5 [--label-delay 5]
//              [--label-fraction 0.05] [--train-limit N] [--stream-limit N] [--epochs E] [--cache-dir DIR]
//              [--rules FILE] [--class-names A,B,...] [--label-policy KEY=VALUE]...
//   reflex-sim --train-images F --train-labels F --stream-images F --stream-labels F [same options]
//   reflex-sim --zoo [--seeds 3] [--families a,b,...] [--budgets default|all|10%/5,...] [--jobs 2] [--out DIR]
//   reflex-sim --zoo-quick [--out DIR]
//   reflex-sim --zoo --images [--families CORRUPTION,...] [the image options above]
//   reflex-sim --zoo-export DIR --families FAMILY [--seed N]   one zoo stream as train.csv, stream.csv
// --zoo (zoo.h, zoo_scenarios.h, zoo_report.h): every drift family x seed 1..N x label budget
// through the experiment above; prints one table (frozen, label-free, labels and oracle F1 and
// accuracy, F1 gap closed = (arm - frozen) / (oracle - frozen), heals, rollbacks), a summary per
// category and the do-no-harm checks; with --out writes DIR/zoo.json. A budget "10%/5" labels 10%
// of each batch's rows 5 batches late; the default budgets are 10%/5 and 100%/0, "all" is
// {1%, 10%, 100%} x {0, 5, 20}. --jobs runs that many experiments at once in worker processes
// (zoo_workers.h; the rows do not change). --zoo-quick: offset and label_up, seed 1, 10%/5, a
// short stream (seconds). --zoo --images (image_zoo.h): the image experiment per corruption at
// severities 3 and 5, accuracy gap closed of label-free, labels and entropy-only; DIR/image_zoo.json.
// Exit codes: 0 done, 1 internal failure, 2 bad input (message names file, line, column).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/csv.h"
#include "core/rules.h"
#include "corruptions.h"
#include "experiment.h"
#include "image_experiment.h"
#include "report_writer.h"
#include "scenarios.h"
#include "image_zoo.h"
#include "user_data.h"
#include "zoo.h"
#include "zoo_report.h"
#include "zoo_scenarios.h"

namespace {

constexpr int kBadInput = 2;

using reflex::sim::SplitCommas;

// Prints the run's table and, with --out, writes its files. Returns the exit code.
int PrintAndWrite(const reflex::sim::SimResult& result, const std::string& out_dir) {
  reflex::sim::PrintTable(std::cout, result);
  if (out_dir.empty()) return 0;
  reflex::Status s = reflex::sim::WriteOutputs(out_dir, result);
  if (!s.ok()) {
    std::cerr << "reflex-sim: " << s.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out_dir << "/{summary.json,metrics.csv,events.json,report.html}\n";
  return 0;
}

// --zoo: runs the drift zoo, prints its table and, with --out, writes zoo.json. Returns the exit code.
// --zoo-export: one family's scenario for one seed as two CSV files. Returns the exit code.
int ExportZooScenario(const std::string& family, uint64_t seed, const std::string& dir) {
  auto scenario = reflex::sim::MakeZooScenario(family, seed);
  if (!scenario.ok()) {
    std::cerr << "reflex-sim: --zoo-export: " << scenario.status().message() << "\n";
    return kBadInput;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const auto& [name, data] : {std::pair{"train.csv", &scenario->data.train}, {"stream.csv", &scenario->data.stream}}) {
    reflex::Status s = reflex::WriteLabeledCsv(dir + "/" + name, *data, "label");
    if (!s.ok()) {
      std::cerr << "reflex-sim: --zoo-export: " << s.message() << "\n";
      return 1;
    }
  }
  std::cout << "zoo/" << family << " seed " << seed << ": " << scenario->drift << "\nwrote " << dir << "/train.csv ("
            << scenario->data.train.rows() << " rows) and " << dir << "/stream.csv (" << scenario->data.stream.rows()
            << " rows, batches of " << scenario->data.batch_size << ")\n";
  return 0;
}

int RunZooCommand(reflex::sim::ZooOptions options, const std::string& families, const std::string& budgets,
                  const std::string& out_dir) {
  if (!families.empty()) options.families = SplitCommas(families);
  if (!budgets.empty()) {
    auto parsed = reflex::sim::ParseBudgets(budgets);
    if (!parsed.ok()) {
      std::cerr << "reflex-sim: " << parsed.status().message() << "\n";
      return kBadInput;
    }
    options.budgets = *parsed;
  }
  options.log = &std::cerr;
  auto rows = reflex::sim::RunZoo(options);
  if (!rows.ok()) {
    std::cerr << "reflex-sim: " << rows.status().ToString() << "\n";
    return rows.status().code() == reflex::StatusCode::kInvalidArgument ? kBadInput : 1;
  }
  const reflex::sim::ZooSummary summary = reflex::sim::SummariseZoo(*rows);
  reflex::sim::PrintZoo(std::cout, options, *rows, summary);
  if (out_dir.empty()) return 0;
  reflex::Status s = reflex::sim::WriteZooJson(out_dir, options, *rows, summary);
  if (!s.ok()) {
    std::cerr << "reflex-sim: " << s.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out_dir << "/zoo.json\n";
  return 0;
}

// --zoo --images: runs the image zoo over `image`'s data, prints its table and, with --out,
// writes image_zoo.json. `corruptions` may be empty (all). Returns the exit code.
int RunImageZooCommand(const reflex::sim::ImageExperimentOptions& image, const std::string& corruptions,
                       const std::string& out_dir) {
  reflex::sim::ImageZooOptions options;
  options.base = image;
  options.corruptions = SplitCommas(corruptions);
  auto rows = reflex::sim::RunImageZoo(options);
  if (!rows.ok()) {
    std::cerr << "reflex-sim: " << rows.status().ToString() << "\n";
    const auto code = rows.status().code();
    return code == reflex::StatusCode::kInvalidArgument || code == reflex::StatusCode::kIoError ? kBadInput : 1;
  }
  reflex::sim::PrintImageZoo(std::cout, options, *rows);
  if (out_dir.empty()) return 0;
  reflex::Status s = reflex::sim::WriteImageZooJson(out_dir, options, *rows);
  if (!s.ok()) {
    std::cerr << "reflex-sim: " << s.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out_dir << "/image_zoo.json\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reflex-sim: streams drifting data through frozen and healed models side by side (prequential)"};
  std::string scenario, train, stream, label, rules, monitor, out_dir;
  size_t batch_size = 100;
  reflex::sim::ExperimentOptions opt;
  double cost_fp = -1, cost_fn = -1;
  std::vector<std::string> policy_overrides;
  auto* scen = app.add_option("--scenario", scenario, "built-in scenario")->check(CLI::IsMember({"seed", "recalibration", "prior"}));
  auto* train_opt = app.add_option("--train", train, "clean labelled CSV with a header row");
  std::string model_bundle;
  auto* model_opt = app.add_option("--model", model_bundle,
                                   "your own model: a bundle written by reflex-bundle --model (its clean rows, rules and "
                                   "monitored features are used; give --stream and --label)");
  app.add_option("--stream", stream, "stream CSV (same columns, rows in time order)");
  app.add_option("--label", label, "label column (0/1)");
  app.add_option("--rules", rules, "rules file (images: class rules over px0.., '=> class NAME')");
  app.add_option("--monitor", monitor, "comma-separated features for FIDI (default: all)");
  app.add_option("--batch-size", batch_size, "rows per batch")->check(CLI::Range(1, 1000000));
  app.add_option("--label-delay", opt.label_delay, "batches until a batch's labels arrive (healed_labels)")->check(CLI::Range(0, 1000000));
  app.add_option("--label-fraction", opt.label_fraction, "fraction of rows that get labels (healed_labels)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", opt.seed, "random seed (same seed, same output)");
  app.add_option("--out", out_dir, "write summary.json, metrics.csv, events.json, report.html here");
  app.add_option("--cost-fp", cost_fp, "cost of a false positive (adds cost per 1,000 rows)")->check(CLI::NonNegativeNumber);
  app.add_option("--cost-fn", cost_fn, "cost of a missed positive")->check(CLI::NonNegativeNumber);
  app.add_option("--policy", policy_overrides, "heal policy override KEY=VALUE (repeatable)");
  // Images (IDX): a named data set or explicit files.
  reflex::sim::ImageExperimentOptions image;
  std::string dataset;
  auto* dataset_opt = app.add_option("--dataset", dataset, "image benchmark (IDX files under /usr/share/datasets)")
                          ->check(CLI::IsMember({"fashion-mnist"}));
  auto* train_images_opt = app.add_option("--train-images", image.train_images, "IDX training images (gzipped or not)");
  app.add_option("--train-labels", image.train_labels, "IDX training labels");
  app.add_option("--stream-images", image.stream_images, "IDX stream images, in time order");
  app.add_option("--stream-labels", image.stream_labels, "IDX stream labels");
  app.add_option("--corruption", image.corruption, "stream corruption")->check(CLI::IsMember(reflex::sim::CorruptionNames()));
  app.add_option("--severity", image.severity, "corruption severity")->check(CLI::Range(1, 5));
  app.add_option("--train-limit", image.train_limit, "use the first N training images (0 = all)");
  app.add_option("--stream-limit", image.stream_limit, "stream the first N test images (0 = all)");
  app.add_option("--epochs", image.epochs, "training epochs of the backbone and the oracle")->check(CLI::Range(1, 100));
  app.add_option("--cache-dir", image.cache_dir, "where trained networks are cached (default: BUILD/cache)");
  app.add_option("--threads", image.threads, "LibTorch threads")->check(CLI::Range(1, 256));
  std::string class_names;
  app.add_option("--class-names", class_names, "images: comma-separated class names, in label order (default: the data set's)");
  app.add_option("--label-policy", image.label_policy_overrides, "images: policy override KEY=VALUE for the labelled arm only (repeatable)");
  bool no_oracle = false;
  app.add_flag("--no-oracle", no_oracle, "skip the oracle arm (no corrupted training)");
  // The drift zoo (zoo.h).
  bool zoo = false, zoo_quick = false, zoo_images = false;
  int zoo_seeds = 3, zoo_jobs = 2;
  std::string zoo_families, zoo_budgets;
  auto* zoo_opt = app.add_flag("--zoo", zoo, "run the drift zoo: every scenario family x seed x label budget");
  auto* zoo_quick_opt = app.add_flag("--zoo-quick", zoo_quick, "a small zoo: offset and label_up, seed 1, 10%/5, short streams");
  app.add_option("--seeds", zoo_seeds, "zoo: seeds 1..N")->check(CLI::Range(1, 1000));
  app.add_option("--jobs", zoo_jobs, "zoo: experiments at once, in worker processes (default 2)")->check(CLI::Range(1, 64));
  app.add_option("--families", zoo_families, "zoo: comma-separated families, with --images corruptions (default: all)");
  app.add_option("--budgets", zoo_budgets, "zoo: label budgets like 10%/5,100%/0, or 'all' or 'default'");
  app.add_flag("--images", zoo_images, "zoo: the image zoo (every corruption at severities 3 and 5) instead of the tabular one");
  std::string zoo_export;
  auto* zoo_export_opt = app.add_option("--zoo-export", zoo_export,
                                        "write one zoo scenario (--families F, --seed N) as DIR/train.csv and DIR/stream.csv "
                                        "(label column 'label'), for reflex-cluster or reflex-sim --train");
  zoo_export_opt->excludes(zoo_opt)->excludes(zoo_quick_opt)->excludes(scen)->excludes(train_opt);
  zoo_opt->excludes(zoo_quick_opt)->excludes(scen)->excludes(train_opt);
  zoo_quick_opt->excludes(scen)->excludes(train_opt);
  scen->excludes(train_opt);
  model_opt->excludes(scen)->excludes(train_opt)->excludes(zoo_opt)->excludes(zoo_quick_opt)->excludes(zoo_export_opt);
  dataset_opt->excludes(scen)->excludes(train_opt)->excludes(model_opt);
  train_images_opt->excludes(scen)->excludes(train_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
  if (!zoo_export.empty()) return ExportZooScenario(zoo_families, opt.seed, zoo_export);
  if (zoo_images && !zoo) {
    std::cerr << "reflex-sim: --images goes with --zoo\n";
    return kBadInput;
  }
  if (zoo_images && image.train_images.empty() && image.stream_images.empty() && dataset.empty()) dataset = "fashion-mnist";
  const bool image_mode = !dataset.empty() || !image.train_images.empty() || !image.stream_images.empty();
  if (image_mode) opt.policy = reflex::sim::DefaultImagePolicy();
  for (const std::string& kv : policy_overrides) {
    size_t eq = kv.find('=');
    reflex::Status s = eq == std::string::npos
                           ? reflex::Status::InvalidArgument("--policy '" + kv + "': expected KEY=VALUE")
                           : opt.policy.Set(kv.substr(0, eq), kv.substr(eq + 1));
    if (!s.ok()) {
      std::cerr << "reflex-sim: " << s.message() << "\n";
      return kBadInput;
    }
  }
  if ((zoo || zoo_quick) && !zoo_images) {
    reflex::sim::ZooOptions options = zoo_quick ? reflex::sim::QuickZooOptions() : reflex::sim::ZooOptions{};
    if (app.count("--seeds")) options.seeds = zoo_seeds;
    options.jobs = zoo_jobs;
    options.policy = opt.policy;  // --policy overrides apply to every healed arm of the zoo
    return RunZooCommand(options, zoo_families, zoo_budgets, out_dir);
  }
  if (image_mode) {
    if (dataset == "fashion-mnist") {
      const std::string dir = "/usr/share/datasets/fashion-mnist/";
      if (image.train_images.empty()) image.train_images = dir + "train-images-idx3-ubyte.gz";
      if (image.train_labels.empty()) image.train_labels = dir + "train-labels-idx1-ubyte.gz";
      if (image.stream_images.empty()) image.stream_images = dir + "t10k-images-idx3-ubyte.gz";
      if (image.stream_labels.empty()) image.stream_labels = dir + "t10k-labels-idx1-ubyte.gz";
      image.dataset = "fashion-mnist";
    } else {
      image.dataset = "idx";
    }
    if (image.train_images.empty() || image.train_labels.empty() || image.stream_images.empty() || image.stream_labels.empty()) {
      std::cerr << "reflex-sim: IDX data needs --train-images, --train-labels, --stream-images and --stream-labels\n";
      return kBadInput;
    }
    if (image.cache_dir.empty()) {
      std::error_code error;
      std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
      image.cache_dir = error ? std::string("reflex-cache") : (exe.parent_path().parent_path() / "cache").string();
    }
    image.seed = opt.seed;
    image.batch_size = batch_size;
    if (app.count("--label-delay")) image.label_delay = opt.label_delay;
    if (app.count("--label-fraction")) image.label_fraction = opt.label_fraction;
    image.oracle = !no_oracle;
    if (!class_names.empty()) image.class_names = SplitCommas(class_names);
    image.rules_path = rules;
    image.policy = opt.policy;
    image.log = &std::cerr;
    if (zoo_images) return RunImageZooCommand(image, zoo_families, out_dir);
    auto result = reflex::sim::RunImageExperiment(image);
    if (!result.ok()) {
      std::cerr << "reflex-sim: " << result.status().ToString() << "\n";
      const auto code = result.status().code();
      return code == reflex::StatusCode::kInvalidArgument || code == reflex::StatusCode::kIoError ? kBadInput : 1;
    }
    return PrintAndWrite(*result, out_dir);
  }
  if ((cost_fp >= 0) != (cost_fn >= 0)) {
    std::cerr << "reflex-sim: --cost-fp and --cost-fn go together\n";
    return kBadInput;
  }
  if (cost_fp >= 0) { opt.cost_fp = cost_fp; opt.cost_fn = cost_fn; }

  reflex::Result<reflex::sim::ScenarioData> data = reflex::Status::InvalidArgument(
      "give --scenario, or --train, --stream and --label, or --model, --stream and --label");
  if (!model_bundle.empty()) {
    if (stream.empty() || label.empty()) {
      std::cerr << "reflex-sim: --model needs --stream and --label\n";
      return kBadInput;
    }
    if (!rules.empty() || !monitor.empty()) {
      std::cerr << "reflex-sim: --model: the bundle holds the rules and the monitored features; give --rules and "
                   "--monitor to reflex-bundle instead\n";
      return kBadInput;
    }
    auto bundle = reflex::LoadModelBundle(model_bundle);
    if (!bundle.ok()) {
      std::cerr << "reflex-sim: --model: " << bundle.status().message() << "\n";
      return kBadInput;
    }
    if (bundle->model->num_classes() >= 2) {
      std::cerr << "reflex-sim: --model: " << model_bundle << " holds a " << bundle->model->num_classes()
                << "-class model; reflex-sim --model runs binary models only (one sigmoid or logit output, or a 2-class "
                   "softmax). K-class heals run in the image experiment (--dataset), which does not take a bundle yet\n";
      return kBadInput;
    }
    opt.deployed = bundle->model;
    data = reflex::sim::LoadBundleStream(*bundle, stream, label, batch_size);
  } else if (!scenario.empty()) {
    data = reflex::sim::MakeScenario(scenario, opt.seed);
  } else if (!train.empty() || !stream.empty()) {
    if (train.empty() || stream.empty() || label.empty()) {
      std::cerr << "reflex-sim: user data needs --train, --stream and --label\n";
      return kBadInput;
    }
    data = reflex::sim::LoadUserData(train, stream, label, rules, monitor, batch_size);
  }
  if (!data.ok()) {
    std::cerr << "reflex-sim: " << data.status().message() << "\n";
    return kBadInput;
  }
  auto result = reflex::sim::RunExperiment(*data, opt);
  if (!result.ok()) {
    std::cerr << "reflex-sim: " << result.status().ToString() << "\n";
    return result.status().code() == reflex::StatusCode::kInvalidArgument ? kBadInput : 1;
  }
  return PrintAndWrite(*result, out_dir);
}
