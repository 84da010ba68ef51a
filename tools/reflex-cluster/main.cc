// reflex-cluster: the whole cluster in one process (a coordinator, a healer and N replica actors,
// the weight bus, loopback scoring), healing drift end to end. Two modes:
//
// Built-in scenario (the demo):
//   reflex-cluster [--scenario recalibration] [--seed 1] [--replicas 3] [--batch 25]
//                  [--label-delay 4] [--label-fraction 1.0] [--rows-per-second 500]
//                  [--policy KEY=VALUE ...]
// Prints what happens as it happens (drift detected -> heal -> fleet on the new version), then
// a table of streaming accuracy per phase and the accuracy on held-out drifted rows of the
// frozen model and of the version the fleet ends on.
// Exit codes: 0 the fleet healed, converged and beat the frozen model with no failed request;
// 1 it did not (the table says what); 2 bad arguments or set-up failure.
//
// A user's CSV, measured the way reflex-sim measures its arms (csv_stream.h):
//   reflex-cluster --train TRAIN.csv --stream STREAM.csv --label COL [--rules FILE]
//                  [--monitor COL,...] [--label-delay 0] [--label-fraction 1.0] [--batch 100]
//                  [--seed 1] [--replicas 3] [--policy KEY=VALUE ...] [--out DIR]
// Trains the deployed model on TRAIN.csv as reflex-sim does (same seed use: the same network as
// reflex-sim's frozen arm), streams STREAM.csv in file order through the cluster in batches
// (labels of a seeded --label-fraction of rows sent --label-delay batches later), waiting after
// each batch until the coordinator has merged it and finished any heal it started. Prints the
// coordinator's heals as they happen and reflex-sim's table for two arms: frozen (version 0,
// scored locally) and fleet (what the replicas answered, prequential). With --out, writes
// summary.json, metrics.csv (one row per batch) and events.json in reflex-sim's schema. The
// coordinator's wall-clock heal cooldown is off here (--policy cooldown_ms=N sets one).
// Your own model (a bundle of reflex-bundle --model), measured the same way with the same outputs:
//   reflex-cluster --bundle BUNDLE --stream STREAM.csv --label COL [the options above but
//                  --train, --rules and --monitor, which the bundle holds]
// The fleet serves your network (no training); the frozen arm is its version 0. Binary models
// only for now: a K-class bundle is refused (wire protocol version 1 carries one probability).
// Exit codes: 0 streamed; 1 the cluster failed; 2 bad input (the message names the file and
// column) or bad arguments.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "csv_stream.h"
#include "embedded_cluster.h"
#include "reflex-sim/report_writer.h"

namespace {

constexpr int kBadInput = 2;

reflex::Status ApplyPolicy(const std::vector<std::string>& overrides, reflex::HealPolicy& policy) {
  for (const std::string& kv : overrides) {
    const size_t eq = kv.find('=');
    reflex::Status s = eq == std::string::npos
                           ? reflex::Status::InvalidArgument("--policy " + kv + ": expected KEY=VALUE")
                           : policy.Set(kv.substr(0, eq), kv.substr(eq + 1));
    if (!s.ok()) return s;
  }
  return reflex::Status::Ok();
}

int RunScenario(const reflex::sim::EmbeddedOptions& opt) {
  using namespace reflex::sim;
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

std::string BatchText(int64_t b) { return b < 0 ? "never" : "after batch " + std::to_string(b); }

int RunCsv(const reflex::sim::CsvStreamOptions& opt, const std::string& out_dir) {
  using namespace reflex::sim;
  const auto start = std::chrono::steady_clock::now();
  auto report = RunCsvStream(opt, [](const std::string& line) { std::printf("%s\n", line.c_str()); std::fflush(stdout); });
  if (!report.ok()) {
    std::fprintf(stderr, "reflex-cluster: %s\n", report.status().message().c_str());
    const auto code = report.status().code();
    return code == reflex::StatusCode::kInvalidArgument || code == reflex::StatusCode::kIoError ? kBadInput : 1;
  }
  std::cout << "\n";
  PrintTable(std::cout, report->result);
  std::printf("\ndrift detected: %s; first heal published: %s; every replica on v%llu: %s; %.1f s\n",
              BatchText(report->first_drift_batch).c_str(), BatchText(report->first_heal_batch).c_str(),
              static_cast<unsigned long long>(report->result.arms.at("fleet").final_version),
              report->converged ? "yes" : "no",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (out_dir.empty()) return 0;
  reflex::Status s = WriteCsvStreamOutputs(out_dir, *report);
  if (!s.ok()) {
    std::fprintf(stderr, "reflex-cluster: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("wrote %s/{summary.json,metrics.csv,events.json}\n", out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reflex::sim;
  CLI::App app{"reflex-cluster: a coordinator, a healer and N replicas in one process, healing a drift scenario "
               "or a user's CSV stream"};
  EmbeddedOptions opt;
  CsvStreamOptions csv;
  std::vector<std::string> policy;
  std::string out_dir;
  auto* scenario = app.add_option("--scenario", opt.scenario, "seed, recalibration or prior")->capture_default_str();
  app.add_option("--seed", opt.seed, "scenario and training seed")->capture_default_str();
  app.add_option("--replicas", opt.replicas, "replica actors")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--batch", opt.batch_rows, "rows per score request (CSV mode: 100)")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--label-delay", opt.label_delay_batches, "batches before a batch's labels arrive (CSV mode: 0)")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  app.add_option("--label-fraction", opt.label_fraction, "fraction of rows whose label arrives")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--rows-per-second", opt.rows_per_second, "scenario stream pace (0: as fast as possible)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e7));
  app.add_option("--policy", policy, "heal policy override KEY=VALUE (repeatable; see reflexctl policy show)");
  app.add_option("--work-dir", opt.work_dir, "keep the model bundle here (default: a temporary folder)");
  auto* train = app.add_option("--train", csv.train_path, "CSV mode: clean labelled CSV with a header row");
  auto* bundle = app.add_option("--bundle", csv.bundle_path,
                                "your own model: a bundle of reflex-bundle --model, instead of --train (with --stream, --label)");
  auto* stream = app.add_option("--stream", csv.stream_path, "CSV mode: stream CSV (same columns, rows in time order)");
  auto* label = app.add_option("--label", csv.label_column, "CSV mode: label column (0/1; --bundle: the model's classes)");
  auto* rules = app.add_option("--rules", csv.rules_path, "CSV mode: rules file");
  auto* monitor = app.add_option("--monitor", csv.monitor, "CSV mode: comma-separated features for FIDI (default: all)");
  app.add_option("--out", out_dir, "CSV mode: write summary.json, metrics.csv, events.json here");
  scenario->excludes(train)->excludes(stream)->excludes(bundle);
  bundle->excludes(train)->excludes(rules)->excludes(monitor);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kBadInput;
  }
  const bool csv_mode = train->count() + stream->count() + label->count() + bundle->count() > 0;
  if (!csv_mode) {
    opt.policy.min_rows = 300;
    opt.policy.cooldown_ms = 2000;
    reflex::Status s = ApplyPolicy(policy, opt.policy);
    if (!s.ok()) {
      std::fprintf(stderr, "reflex-cluster: %s\n", s.message().c_str());
      return kBadInput;
    }
    return RunScenario(opt);
  }
  if ((csv.train_path.empty() && csv.bundle_path.empty()) || csv.stream_path.empty() || csv.label_column.empty()) {
    std::fprintf(stderr, "reflex-cluster: a CSV stream needs --train (or --bundle), --stream and --label\n");
    return kBadInput;
  }
  csv.seed = opt.seed;
  csv.replicas = opt.replicas;
  csv.work_dir = opt.work_dir;
  csv.batch_rows = app.count("--batch") ? opt.batch_rows : 100;
  csv.label_delay_batches = app.count("--label-delay") ? opt.label_delay_batches : 0;
  csv.label_fraction = opt.label_fraction;
  csv.policy.cooldown_ms = 0;  // heals land between batches: a wall-clock cooldown would depend on the machine
  reflex::Status s = ApplyPolicy(policy, csv.policy);
  if (!s.ok()) {
    std::fprintf(stderr, "reflex-cluster: %s\n", s.message().c_str());
    return kBadInput;
  }
  return RunCsv(csv, out_dir);
}
