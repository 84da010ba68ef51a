// reflex-sim: the single-process heal experiment. See README.md and experiment.h.
//
//   reflex-sim --scenario seed|recalibration|prior [--seed N] [--out DIR]
//   reflex-sim --train TRAIN.csv --stream STREAM.csv --label COLUMN [--rules FILE]
//              [--monitor COL,...] [--batch-size 100] [--label-delay B] [--label-fraction F]
//              [--seed N] [--out DIR]
//   reflex-sim --dataset fashion-mnist --corruption NAME --severity 1..5 [--label-delay 5]
//              [--label-fraction 0.05] [--train-limit N] [--stream-limit N] [--epochs E] [--cache-dir DIR]
//              [--rules FILE] [--class-names A,B,...] [--label-policy KEY=VALUE]...
//   reflex-sim --train-images F --train-labels F --stream-images F --stream-labels F [same options]
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
#include "user_data.h"

namespace {

constexpr int kBadInput = 2;

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

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
  scen->excludes(train_opt);
  dataset_opt->excludes(scen)->excludes(train_opt);
  train_images_opt->excludes(scen)->excludes(train_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kBadInput;
  }
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
      "give --scenario, or --train, --stream and --label");
  if (!scenario.empty()) {
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
