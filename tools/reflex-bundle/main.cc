// reflex-bundle: writes the model bundle and the data streams a cluster runs on, from a
// built-in scenario of reflex-sim (see scenario_bundle.h for the files).
//
//   reflex-bundle --scenario recalibration --seed 1 --out run/cluster
//
// Exit codes: 0 written; 2 bad arguments or the files could not be written (message on stderr).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "scenario_bundle.h"

int main(int argc, char** argv) {
  CLI::App app{"reflex-bundle: train a scenario's model and write its bundle and streams"};
  std::string scenario = "recalibration";
  uint64_t seed = 1;
  std::string out;
  app.add_option("--scenario", scenario, "seed, recalibration or prior")->capture_default_str();
  app.add_option("--seed", seed, "generator and training seed")->capture_default_str();
  app.add_option("--out", out, "output folder (model/, clean.csv, drift.csv, holdout.csv)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
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
