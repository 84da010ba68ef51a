// reflex-cluster: the whole cluster in one process, healing a drift scenario end to end.
//
//   reflex-cluster [--scenario recalibration] [--seed 1] [--replicas 3] [--batch 25]
//                  [--label-delay 4] [--label-fraction 1.0] [--rows-per-second 500]
//                  [--policy KEY=VALUE ...]
//
// Prints what happens as it happens (drift detected -> heal -> fleet on the new version), then
// a table of streaming accuracy per phase and the accuracy on held-out drifted rows of the
// frozen model and of the version the fleet ends on.
// Exit codes: 0 the fleet healed, converged and beat the frozen model with no failed request;
// 1 it did not (the table says what); 2 bad arguments or set-up failure.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embedded_cluster.h"

int main(int argc, char** argv) {
  using namespace reflex::sim;
  CLI::App app{"reflex-cluster: a coordinator, a healer and N replicas in one process, healing a drift scenario"};
  EmbeddedOptions opt;
  std::vector<std::string> policy;
  app.add_option("--scenario", opt.scenario, "seed, recalibration or prior")->capture_default_str();
  app.add_option("--seed", opt.seed, "scenario and training seed")->capture_default_str();
  app.add_option("--replicas", opt.replicas, "replica actors")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--batch", opt.batch_rows, "rows per score request")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--label-delay", opt.label_delay_batches, "batches before a batch's labels arrive")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  app.add_option("--label-fraction", opt.label_fraction, "fraction of rows whose label arrives")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--rows-per-second", opt.rows_per_second, "stream pace (0: as fast as possible)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e7));
  app.add_option("--policy", policy, "heal policy override KEY=VALUE (repeatable; see reflexctl policy show)");
  app.add_option("--work-dir", opt.work_dir, "keep the model bundle here (default: a temporary folder)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  opt.policy.min_rows = 300;
  opt.policy.cooldown_ms = 2000;
  for (const std::string& kv : policy) {
    const size_t eq = kv.find('=');
    reflex::Status s = eq == std::string::npos
                           ? reflex::Status::InvalidArgument("--policy " + kv + ": expected KEY=VALUE")
                           : opt.policy.Set(kv.substr(0, eq), kv.substr(eq + 1));
    if (!s.ok()) {
      std::fprintf(stderr, "reflex-cluster: %s\n", s.message().c_str());
      return 2;
    }
  }
  auto report = RunEmbeddedCluster(opt, [](const std::string& line) { std::printf("%s\n", line.c_str()); std::fflush(stdout); });
  if (!report.ok()) {
    std::fprintf(stderr, "reflex-cluster: %s\n", report.status().message().c_str());
    return 2;
  }
  const EmbeddedReport& r = *report;
  std::printf("\n%-34s %6s %9s  %s\n", "phase (prequential, as served)", "rows", "accuracy", "versions");
  for (const PhaseAccuracy& p : r.phases) {
    if (p.rows == 0) {
      std::printf("%-34s %6s %9s  %s\n", p.name.c_str(), "0", "-", "-");
      continue;
    }
    std::printf("%-34s %6llu %8.1f%%  v%llu..v%llu\n", p.name.c_str(), static_cast<unsigned long long>(p.rows),
                100 * p.accuracy(), static_cast<unsigned long long>(p.first_version),
                static_cast<unsigned long long>(p.last_version));
  }
  std::printf("held-out drifted rows: frozen model %.1f%%, fleet on v%llu %.1f%%\n", 100 * r.frozen_holdout_accuracy,
              static_cast<unsigned long long>(r.final_version), 100 * r.served_holdout_accuracy);
  std::printf("drift detected: %s; healed: %s; every replica on v%llu: %s; failed requests: %llu\n",
              r.drift_detected ? "yes" : "no", r.healed ? "yes" : "no", static_cast<unsigned long long>(r.final_version),
              r.converged ? "yes" : "no", static_cast<unsigned long long>(r.failed_requests));
  const bool ok = r.drift_detected && r.healed && r.converged && r.failed_requests == 0 &&
                  r.served_holdout_accuracy > r.frozen_holdout_accuracy;
  return ok ? 0 : 1;
}
