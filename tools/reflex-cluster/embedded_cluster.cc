#include "embedded_cluster.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "embedded_fleet.h"
#include "model/model_bundle.h"
#include "scenario_bundle.h"
#include "transport/scoring_client.h"

namespace reflex::sim {
namespace {

using Clock = std::chrono::steady_clock;

// Turns the actors' structured events into the demo's narrative, and notes what happened.
class Narrator {
 public:
  Narrator(std::function<void(const std::string&)> print, int replicas)
      : print_(std::move(print)), replicas_(replicas), start_(Clock::now()) {}

  actors::EventLog For(const std::string& who) {
    return [this, who](const std::string& event, const nlohmann::json& f) { On(who, event, f); };
  }
  void Say(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    SayLocked(line);
  }
  bool drift_detected() const { std::lock_guard<std::mutex> l(mu_); return drift_detected_; }
  bool healed() const { std::lock_guard<std::mutex> l(mu_); return healed_; }
  uint64_t first_heal_version() const { std::lock_guard<std::mutex> l(mu_); return first_heal_version_; }

 private:
  void SayLocked(const std::string& line) {
    const double t = std::chrono::duration<double>(Clock::now() - start_).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%6.2fs] ", t);
    print_(stamp + line);
  }
  void On(const std::string& who, const std::string& event, const nlohmann::json& f) {
    std::lock_guard<std::mutex> lock(mu_);
    auto s = [&](const char* key) -> std::string {
      if (!f.contains(key)) return "?";
      const nlohmann::json& v = f[key];
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
        return buf;
      }
      return v.dump();
    };
    if (event == "drift_detected") {
      drift_detected_ = true;
      SayLocked("drift detected by " + s("by") + ": z=" + s("max_z") + " on " + s("feature") + " over " + s("rows") +
                " rows; heals will learn from rows sampled from now on");
    } else if (event == "drift_gone") {
      SayLocked("drift gone: z=" + s("max_z"));
    } else if (event == "heal_started") {
      SayLocked("heal job " + s("job") + " (" + s("trigger") + ") on " + s("rows") + " rows (" + s("labelled_rows") +
                " labelled), healing v" + s("base"));
    } else if (event == "heal_dispatched") {
      SayLocked("  job " + s("job") + " -> " + s("healer"));
    } else if (event == "heal_rejected") {
      SayLocked("  job " + s("job") + " rejected by the " + s("stage") + ": " + s("reason"));
    } else if (event == "heal_abandoned" || event == "heal_not_started" || event == "rollback_failed") {
      SayLocked("  " + event + ": " + f.dump());
    } else if (event == "version_published") {
      const uint64_t v = f.value("version", uint64_t{0});
      if (f.contains("weights_of")) {
        SayLocked("published v" + s("version") + " = weights of v" + s("weights_of") + " (" + s("reason") + ")");
      } else {
        if (!healed_) first_heal_version_ = v;
        healed_ = true;
        SayLocked("published v" + s("version") + " (healed from v" + s("parent") + " by " + s("healer") + ")");
      }
      applied_[v].clear();
    } else if (event == "version_applied") {
      const uint64_t v = f.value("version", uint64_t{0});
      auto& who_applied = applied_[v];
      who_applied.insert(who);
      if (static_cast<int>(who_applied.size()) == replicas_) {
        SayLocked("fleet on v" + std::to_string(v) + ": all " + std::to_string(replicas_) + " replicas serve it");
      }
    } else if (event == "health_baseline") {
      SayLocked("v" + s("version") + " health baseline from delayed labels: accuracy " + s("accuracy") + ", F1 " + s("f1"));
    } else if (event == "healer_joined") {
      SayLocked(s("healer") + " joined (" + s("device") + ")");
    } else if (event == "version_refused" || event == "start_failed") {
      SayLocked(who + ": " + event + " " + f.dump());
    }
  }

  std::function<void(const std::string&)> print_;
  const int replicas_;
  const Clock::time_point start_;
  mutable std::mutex mu_;
  bool drift_detected_ = false, healed_ = false;
  uint64_t first_heal_version_ = 0;
  std::map<uint64_t, std::set<std::string>> applied_;
};

}  // namespace

Result<EmbeddedReport> RunEmbeddedCluster(const EmbeddedOptions& opt, std::function<void(const std::string&)> print) {
  namespace fs = std::filesystem;
  if (opt.replicas < 1 || opt.batch_rows == 0) return Status::InvalidArgument("need at least one replica and batch_rows > 0");
  std::string work = opt.work_dir;
  bool temporary = false;
  if (work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "reflex-embedded-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Status::IoError("cannot create a temporary folder");
    work = tmpl;
    temporary = true;
  }
  Narrator narrator(print, opt.replicas);
  narrator.Say("training the deployed model for scenario '" + opt.scenario + "' (seed " + std::to_string(opt.seed) + ")");
  auto streams = BuildScenarioBundle(opt.scenario, opt.seed, (fs::path(work) / "model").string());
  if (!streams.ok()) return streams.status();
  auto loaded = LoadModelBundle((fs::path(work) / "model").string());
  if (temporary) fs::remove_all(work);
  if (!loaded.ok()) return loaded.status();
  auto bundle = std::make_shared<const ModelBundle>(std::move(*loaded));
  const size_t cols = bundle->model->input_dims();

  EmbeddedReport report;
  {
    // Frozen accuracy on the held-out drifted rows: the deployed model, no heal.
    const LabeledData& h = streams->holdout;
    auto probs = bundle->model->Score(bundle->model->initial_adapter(), BatchView{h.features.data(), h.rows(), cols});
    if (!probs.ok()) return probs.status();
    size_t correct = 0;
    for (size_t i = 0; i < h.rows(); ++i) correct += ((*probs)[i] >= 0.5f) == (h.labels[i] == 1);
    report.frozen_holdout_accuracy = h.rows() ? static_cast<double>(correct) / h.rows() : 0;
  }

  FleetOptions fo;
  fo.replicas = opt.replicas;
  fo.summary_rows = 100;
  fo.summary_interval_ms = 300;
  fo.policy = opt.policy;
  fo.log_for = [&narrator](const std::string& who) { return narrator.For(who); };
  auto fleet = EmbeddedFleet::Start(bundle, fo);
  if (!fleet.ok()) return fleet.status();
  const std::vector<std::string>& endpoints = (*fleet)->endpoints();
  narrator.Say("cluster up: coordinator, healer-1, " + std::to_string(opt.replicas) + " replicas serving v0 at " +
               endpoints.front() + (endpoints.size() > 1 ? " ..." : ""));

  transport::ScoringClientOptions client_options;
  client_options.endpoints = endpoints;
  client_options.attempt_timeout = std::chrono::milliseconds(1000);
  client_options.max_attempts = 4;
  auto client = transport::ScoringClient::Create(client_options);
  if (!client.ok()) return client.status();

  struct PendingLabel {
    size_t due;
    uint64_t request_id;
    uint32_t row;
    uint8_t label;
  };
  std::deque<PendingLabel> pending;
  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> unit(0, 1);
  size_t batch_index = 0;
  PhaseAccuracy clean{"clean"}, before{"drifted, before the first heal"}, after{"drifted, after it"};

  const auto stream_start = Clock::now();
  size_t rows_sent = 0;
  auto stream = [&](const LabeledData& d, bool drifted) {
    for (size_t start = 0; start < d.rows(); start += opt.batch_rows) {
      const size_t n = std::min(opt.batch_rows, d.rows() - start);
      if (opt.rows_per_second > 0) {
        std::this_thread::sleep_until(stream_start + std::chrono::microseconds(static_cast<int64_t>(
                                                         1e6 * static_cast<double>(rows_sent) / opt.rows_per_second)));
      }
      rows_sent += n;
      auto reply = (*client)->Score(d.features.data() + start * cols, n, static_cast<uint32_t>(cols),
                                    std::chrono::milliseconds(3000));
      if (!reply.ok() || reply->error != wire::ErrorCode::kOk) {
        ++report.failed_requests;
      } else {
        const uint64_t first_heal = narrator.first_heal_version();
        PhaseAccuracy& phase = !drifted ? clean : (first_heal != 0 && reply->version >= first_heal ? after : before);
        for (size_t i = 0; i < n; ++i) {
          phase.correct += (reply->probabilities[i] >= 0.5f) == (d.labels[start + i] == 1);
          if (unit(rng) < opt.label_fraction) {
            pending.push_back({batch_index + static_cast<size_t>(opt.label_delay_batches), reply->request_id,
                               static_cast<uint32_t>(i), d.labels[start + i]});
          }
        }
        phase.rows += n;
        phase.first_version = std::min(phase.first_version, reply->version);
        phase.last_version = std::max(phase.last_version, reply->version);
      }
      while (!pending.empty() && pending.front().due <= batch_index) {
        const PendingLabel l = pending.front();
        pending.pop_front();
        if (!(*client)->SendLabel(l.request_id, l.row, l.label, std::chrono::milliseconds(3000)).ok()) {
          ++report.failed_requests;
        }
      }
      ++batch_index;
    }
  };
  narrator.Say("streaming " + std::to_string(streams->clean.rows()) + " clean rows in batches of " +
               std::to_string(opt.batch_rows) + ", labels " + std::to_string(opt.label_delay_batches) + " batches late");
  stream(streams->clean, false);
  narrator.Say("drift begins: streaming " + std::to_string(streams->drift.rows()) + " drifted rows");
  stream(streams->drift, true);

  // Let a heal still running finish, then read where the fleet should be.
  WaitUntil(
      [&] {
        nlohmann::json s = (*fleet)->CoordinatorStatus();
        return s.is_object() && !s.value("heal_in_flight", false);
      },
      std::chrono::seconds(30));
  nlohmann::json status = (*fleet)->CoordinatorStatus();
  report.final_version = status.is_object() ? status.value("current_version", uint64_t{0}) : 0;
  report.converged = WaitUntil(
      [&] {
        for (size_t i = 0; i < endpoints.size(); ++i) {
          nlohmann::json s = (*fleet)->ReplicaStatus(i);
          if (!s.is_object() || s.value("version", uint64_t{0}) != report.final_version) return false;
        }
        return true;
      },
      std::chrono::seconds(10));
  {
    const LabeledData& h = streams->holdout;
    size_t correct = 0, scored = 0;
    for (size_t start = 0; start < h.rows(); start += 100) {
      const size_t n = std::min<size_t>(100, h.rows() - start);
      auto reply = (*client)->Score(h.features.data() + start * cols, n, static_cast<uint32_t>(cols),
                                    std::chrono::milliseconds(3000));
      if (!reply.ok() || reply->error != wire::ErrorCode::kOk) {
        ++report.failed_requests;
        continue;
      }
      for (size_t i = 0; i < n; ++i) correct += (reply->probabilities[i] >= 0.5f) == (h.labels[start + i] == 1);
      scored += n;
    }
    report.served_holdout_accuracy = scored ? static_cast<double>(correct) / scored : 0;
  }
  report.phases = {clean, before, after};
  report.drift_detected = narrator.drift_detected();
  report.healed = narrator.healed();
  client->reset();
  return report;
}

}  // namespace reflex::sim
