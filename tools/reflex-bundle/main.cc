// reflex-bundle: writes a model bundle (model/model_bundle.h) that every coordinator, replica
// and healer of a cluster loads. Two modes:
//
// Your own model (user_bundle.h): a TorchScript export of tools/export_model.py plus your clean
// labelled CSV, checked against the export (columns, classes, finite values) before anything
// is written:
//   reflex-bundle --model EXPORT_DIR --clean CLEAN.csv --label COLUMN [--rules FILE]
//                 [--monitor COL,...] --out BUNDLE
//
// A built-in scenario of reflex-sim, with its data streams (scenario_bundle.h):
//   reflex-bundle --scenario recalibration --seed 1 --out run/cluster
//
// Exit codes: 0 written; 2 bad arguments, bad input (the message names the file, line and column)
// or the files could not be written (message on stderr).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "scenario_bundle.h"
#include "user_bundle.h"

int main(int argc, char** argv) {
  CLI::App app{"reflex-bundle: the model bundle of your own TorchScript export and clean CSV (--model), or of a "
               "built-in scenario with its streams (--scenario)"};
  std::string scenario = "recalibration";
  uint64_t seed = 1;
  std::string out;
  reflex::sim::UserBundleOptions user;
  auto* scenario_opt = app.add_option("--scenario", scenario, "built-in scenario: seed, recalibration or prior")->capture_default_str();
  auto* seed_opt = app.add_option("--seed", seed, "built-in scenario: generator and training seed")->capture_default_str();
  auto* model_opt = app.add_option("--model", user.export_dir, "your model: the folder tools/export_model.py wrote");
  app.add_option("--clean", user.clean_path, "your model: clean labelled CSV (the export's feature columns plus the label)");
  app.add_option("--label", user.label_column, "your model: the label column of --clean");
  app.add_option("--rules", user.rules_path, "your model: rules file (optional)");
  app.add_option("--monitor", user.monitor, "your model: comma-separated features for FIDI (default: all)");
  app.add_option("--out", out, "output folder (--model: the bundle; --scenario: model/, clean.csv, drift.csv, holdout.csv)")->required();
  model_opt->excludes(scenario_opt)->excludes(seed_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const bool user_mode = app.count("--model") + app.count("--clean") + app.count("--label") + app.count("--rules") +
                             app.count("--monitor") > 0;
  if (user_mode) {
    if (user.export_dir.empty() || user.clean_path.empty() || user.label_column.empty()) {
      std::fprintf(stderr, "reflex-bundle: a bundle of your own model needs --model, --clean and --label (and --out)\n");
      return 2;
    }
    user.out_dir = out;
    auto report = reflex::sim::WriteUserBundle(user);
    if (!report.ok()) {
      std::fprintf(stderr, "reflex-bundle: %s\n", report.status().message().c_str());
      return 2;
    }
    std::fputs(reflex::sim::DescribeUserBundle(user, *report).c_str(), stdout);
    return 0;
  }
  const reflex::Status status = reflex::sim::WriteScenarioFiles(scenario, seed, out);
  if (!status.ok()) {
    std::fprintf(stderr, "reflex-bundle: %s\n", status.ToString().c_str());
    return 2;
  }
  std::printf("wrote %s/model (bundle), %s/clean.csv, %s/drift.csv, %s/holdout.csv\n", out.c_str(), out.c_str(),
              out.c_str(), out.c_str());
  return 0;
}
