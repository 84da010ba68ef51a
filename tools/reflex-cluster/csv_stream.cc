#include "csv_stream.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>

#include "core/atomic_file.h"
#include "embedded_fleet.h"
#include "model/model_bundle.h"
#include "reflex-sim/report_writer.h"
#include "scenario_bundle.h"
#include "transport/scoring_client.h"
#include "user_data.h"

namespace reflex::sim {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMergeWait{10000};   // for a batch's summary to reach the coordinator
constexpr milliseconds kHealWait{120000};   // for a heal to be published or refused
constexpr milliseconds kApplyWait{10000};   // for every replica to serve the coordinator's version
constexpr int kNoTimer = 24 * 3600 * 1000;  // replicas summarise on rows only

std::string Fmt(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The coordinator's events, each stamped with the batch being processed when it happened (null
// before the first batch). Log() is called from the coordinator's thread; the rest from the driver.
class EventRecorder {
 public:
  explicit EventRecorder(std::function<void(const std::string&)> print) : print_(std::move(print)) {}
  actors::EventLog Log() {
    return [this](const std::string& event, const nlohmann::json& fields) { On(event, fields); };
  }
  void SetBatch(int64_t b) { batch_.store(b); }
  std::vector<nlohmann::json> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void On(const std::string& event, const nlohmann::json& fields) {
    const int64_t b = batch_.load();
    nlohmann::json e = fields.is_object() ? fields : nlohmann::json::object();
    e["event"] = event;
    e["batch"] = b < 0 ? nlohmann::json(nullptr) : nlohmann::json(b);
    const std::string line = Narrate(event, e);
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
    if (!line.empty() && print_) print_((b < 0 ? std::string("[start]") : "[batch " + std::to_string(b) + "]") + " " + line);
  }
  static std::string Narrate(const std::string& event, const nlohmann::json& f) {
    auto s = [&](const char* key) {
      if (!f.contains(key)) return std::string("?");
      const nlohmann::json& v = f[key];
      return v.is_string() ? v.get<std::string>() : v.is_number_float() ? Fmt(v.get<double>()) : v.dump();
    };
    if (event == "drift_detected") return "drift detected by " + s("by") + ": z=" + s("max_z") + " on " + s("feature");
    if (event == "drift_gone") return "drift gone: z=" + s("max_z");
    if (event == "heal_started") return "heal job " + s("job") + " on " + s("rows") + " rows (" + s("labelled_rows") + " labelled), healing v" + s("base");
    if (event == "heal_rejected") return "heal job " + s("job") + " refused by the " + s("stage") + ": " + s("reason");
    if (event == "heal_abandoned" || event == "heal_not_started" || event == "rollback_failed") return event + ": " + f.dump();
    if (event == "version_published") {
      return f.contains("weights_of") ? "published v" + s("version") + " = weights of v" + s("weights_of") + " (" + s("reason") + ")"
                                      : "published v" + s("version") + " (healed from v" + s("parent") + ")";
    }
    return "";
  }

  std::function<void(const std::string&)> print_;
  std::atomic<int64_t> batch_{-1};
  mutable std::mutex mu_;
  std::vector<nlohmann::json> events_;
};

// Trains and bundles the deployed model as reflex-sim trains it, then loads the bundle back.
Result<std::shared_ptr<const ModelBundle>> BundleFor(const ScenarioData& data, const CsvStreamOptions& opt) {
  namespace fs = std::filesystem;
  std::string work = opt.work_dir;
  const bool temporary = work.empty();
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "reflex-cluster-csv-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Status::IoError("cannot create a temporary folder under " + fs::temp_directory_path().string());
    work = tmpl;
  }
  const std::string dir = (fs::path(work) / "model").string();
  Status written = WriteTrainedBundle(data, opt.seed, dir);
  Result<ModelBundle> loaded = written.ok() ? LoadModelBundle(dir) : Result<ModelBundle>(written);
  if (temporary) {
    std::error_code ignored;
    fs::remove_all(work, ignored);
  }
  if (!loaded.ok()) return loaded.status();
  return std::make_shared<const ModelBundle>(std::move(*loaded));
}

uint64_t MergedRows(const nlohmann::json& status) {
  uint64_t rows = 0;
  if (!status.is_object() || !status.contains("replicas")) return 0;
  for (const auto& r : status["replicas"]) rows += r.value("rows_scored", uint64_t{0});
  return rows;
}

}  // namespace

namespace {

// Streams the batches through the fleet and scores them with version 0 beside it.
class Driver {
 public:
  Driver(const CsvStreamOptions& opt, const ScenarioData& data, std::shared_ptr<const ModelBundle> bundle,
         EmbeddedFleet& fleet, std::vector<std::unique_ptr<transport::ScoringClient>> clients, EventRecorder& events)
      : opt_(opt), data_(data), bundle_(std::move(bundle)), fleet_(fleet), clients_(std::move(clients)),
        events_(events), label_rng_(opt.seed * 31 + 7) {}

  Status Run() {
    auto compiled = bundle_->model->Compile(bundle_->model->initial_adapter());
    if (!compiled.ok()) return compiled.status();
    frozen_ = *compiled;
    const size_t batches = data_.stream.rows() / opt_.batch_rows;
    for (size_t b = 0; b < batches; ++b) {
      events_.SetBatch(static_cast<int64_t>(b));
      REFLEX_RETURN_IF_ERROR(Batch(b));
    }
    return Status();
  }

  CsvStreamReport Finish();

 private:
  struct PendingLabel {
    size_t due;  // batch after which it is sent
    size_t replica;
    uint64_t request_id;
    uint32_t row;
    uint8_t label;
  };

  Status Batch(size_t b) {
    const size_t dims = data_.stream.dims(), n = opt_.batch_rows;
    const float* rows = data_.stream.features.data() + b * n * dims;
    const uint8_t* truth = data_.stream.labels.data() + b * n;
    BatchRecord record;
    record.batch = b;
    REFLEX_RETURN_IF_ERROR(ScoreFrozen(BatchView{rows, n, dims}, truth, record));
    REFLEX_RETURN_IF_ERROR(ScoreFleet(b, rows, truth, record));
    Settle(record);
    DeliverLabels(b);
    result_.batches.push_back(std::move(record));
    return Status();
  }

  Status ScoreFrozen(const BatchView& view, const uint8_t* truth, BatchRecord& record) {
    std::vector<float> probs(view.rows);
    REFLEX_RETURN_IF_ERROR(bundle_->model->Score(*frozen_, view, probs.data()));
    Confusion c;
    for (size_t i = 0; i < view.rows; ++i) c.Add(probs[i] > 0.5f, truth[i] == 1);
    frozen_summary_.confusion.Merge(c);
    record.arms["frozen"] = ArmBatch{c.accuracy(), c.f1(), 0, ""};
    if (!bundle_->rules->empty()) {
      RuleSet::BatchStats st = bundle_->rules->Evaluate(view.data, view.rows, probs.data(), 0.5);
      for (uint64_t k : st.conflicts) record.conflicts += k;
    }
    return Status();
  }

  Status ScoreFleet(size_t b, const float* rows, const uint8_t* truth, BatchRecord& record) {
    const size_t n = opt_.batch_rows, r = b % clients_.size();
    auto reply = clients_[r]->Score(rows, n, static_cast<uint32_t>(data_.stream.dims()), milliseconds(10000));
    if (!reply.ok()) return reply.status().WithContext("batch " + std::to_string(b) + ": replica-" + std::to_string(r + 1));
    if (reply->error != wire::ErrorCode::kOk || reply->probabilities.size() < n) {
      return Status::Unavailable("batch " + std::to_string(b) + ": replica-" + std::to_string(r + 1) + " answered " +
                                 wire::ErrorCodeName(reply->error) + ": " + reply->message);
    }
    Confusion c;
    for (size_t i = 0; i < n; ++i) c.Add(reply->probabilities[i] > 0.5f, truth[i] == 1);
    fleet_summary_.confusion.Merge(c);
    record.arms["fleet"] = ArmBatch{c.accuracy(), c.f1(), reply->version, ""};
    rows_sent_ += n;
    // The same draw, row by row, as reflex-sim's healed_labels arm: the same rows get labels.
    for (size_t i = 0; i < n; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(label_rng_) < opt_.label_fraction) {
        pending_.push_back({b + static_cast<size_t>(opt_.label_delay_batches), r, reply->request_id,
                            static_cast<uint32_t>(i), truth[i]});
      }
    }
    return Status();
  }

  // Waits until the coordinator has merged every row sent, any heal it started is over and every
  // replica serves its version; notes the coordinator's drift reading in `record`.
  void Settle(BatchRecord& record) {
    nlohmann::json status;
    auto poll = [&] { status = fleet_.CoordinatorStatus(); return status.is_object(); };
    if (!WaitUntil([&] { return poll() && MergedRows(status) >= rows_sent_; }, kMergeWait, milliseconds(2))) ++late_merges_;
    if (!WaitUntil([&] { return poll() && !status.value("heal_in_flight", false); }, kHealWait, milliseconds(10))) ++late_heals_;
    const uint64_t version = status.is_object() ? status.value("current_version", uint64_t{0}) : 0;
    if (!AllServe(version, kApplyWait)) ++late_applies_;
    if (status.is_object() && status.contains("drift")) {
      record.fidi_z = status["drift"].value("max_z", 0.0);
      record.drift = status["drift"].value("drift", false);
    }
    final_version_ = version;
  }

  bool AllServe(uint64_t version, milliseconds timeout) {
    return WaitUntil(
        [&] {
          for (size_t i = 0; i < clients_.size(); ++i) {
            nlohmann::json s = fleet_.ReplicaStatus(i);
            if (!s.is_object() || s.value("version", uint64_t{0}) != version) return false;
          }
          return true;
        },
        timeout, milliseconds(5));
  }

  void DeliverLabels(size_t b) {
    while (!pending_.empty() && pending_.front().due <= b) {
      const PendingLabel l = pending_.front();
      pending_.pop_front();
      if (!clients_[l.replica]->SendLabel(l.request_id, l.row, l.label, milliseconds(3000)).ok()) ++failed_labels_;
    }
  }

  void AddEvents(SimResult& result, ArmSummary& fleet) const;
  std::vector<std::string> Notes() const;

  const CsvStreamOptions& opt_;
  const ScenarioData& data_;
  std::shared_ptr<const ModelBundle> bundle_;
  EmbeddedFleet& fleet_;
  std::vector<std::unique_ptr<transport::ScoringClient>> clients_;
  EventRecorder& events_;
  std::shared_ptr<const CompiledAdapter> frozen_;
  std::mt19937_64 label_rng_;
  std::deque<PendingLabel> pending_;
  SimResult result_;
  ArmSummary frozen_summary_, fleet_summary_;
  uint64_t rows_sent_ = 0, final_version_ = 0;
  int late_merges_ = 0, late_heals_ = 0, late_applies_ = 0, failed_labels_ = 0;
};

// The coordinator's heals, refusals and rollbacks as reflex-sim's events and batch actions.
void Driver::AddEvents(SimResult& result, ArmSummary& fleet) const {
  for (const nlohmann::json& e : events_.Events()) {
    if (!e["batch"].is_number()) continue;
    const size_t b = e["batch"].get<size_t>();
    const std::string event = e.value("event", std::string());
    SimEvent se;
    se.batch = b;
    se.arm = "fleet";
    se.reason = e.value("reason", std::string());
    std::string action;
    if (event == "version_published" && !e.contains("weights_of")) {
      se.kind = "heal";
      se.version = e.value("version", uint64_t{0});
      se.from_version = e.value("parent", uint64_t{0});
      if (e.contains("labelled_rows")) se.details["labelled_rows"] = e["labelled_rows"].get<double>();
      action = "heal v" + std::to_string(se.version);
      ++fleet.heal_events;
    } else if (event == "version_published") {
      // A rollback publishes the weights of an older version under a new version number.
      se.kind = "rollback";
      se.version = e.value("version", uint64_t{0});
      se.from_version = e.value("parent", uint64_t{0});
      const uint64_t target = e.value("weights_of", uint64_t{0});
      se.details["weights_of"] = static_cast<double>(target);
      action = "rollback v" + std::to_string(target) + " as v" + std::to_string(se.version);
      ++fleet.rollbacks;
    } else if (event == "heal_rejected") {
      se.kind = "rejection";
      se.reason = e.value("stage", std::string("?")) + ": " + se.reason;
      if (e.contains("job")) se.details["job"] = e["job"].get<double>();
      action = "reject";
      ++fleet.rejections;
    } else {
      continue;
    }
    result.events.push_back(se);
    if (b < result.batches.size()) {
      std::string& shown = result.batches[b].arms["fleet"].action;
      shown += (shown.empty() ? "" : "; ") + action;
    }
  }
}

std::vector<std::string> Driver::Notes() const {
  std::vector<std::string> notes;
  notes.push_back("fleet: " + std::to_string(clients_.size()) +
                  " replica(s), one coordinator and one healer in one process; batches go to the replicas in turn "
                  "and labels to the replica that scored them, which passes them on with its next drift summary");
  const size_t dropped = data_.stream.rows() % opt_.batch_rows;
  if (dropped) notes.push_back("the last " + std::to_string(dropped) + " stream rows (less than a batch) were not streamed");
  auto late = [&](int count, const std::string& what) {
    if (count) notes.push_back(std::to_string(count) + " batch(es): " + what);
  };
  late(late_merges_, "the coordinator had not merged the batch's summary within 10 s");
  late(late_heals_, "a heal was still running after 120 s");
  late(late_applies_, "a replica did not serve the coordinator's version within 10 s");
  late(failed_labels_, "label(s) not acknowledged");  // counted per label
  return notes;
}

CsvStreamReport Driver::Finish() {
  CsvStreamReport rep;
  SimResult& r = rep.result;
  r = std::move(result_);
  r.tool = "reflex-cluster";
  r.scenario = data_.name;
  r.seed = opt_.seed;
  r.batch_size = opt_.batch_rows;
  r.fidi_threshold = opt_.policy.fidi_threshold;
  r.arm_order = {"frozen", "fleet"};
  frozen_summary_.name = "frozen";
  frozen_summary_.labels_used = "none";
  fleet_summary_.name = "fleet";
  fleet_summary_.labels_used = Fmt(opt_.label_fraction * 100, 0) + "% of rows, " +
                               std::to_string(opt_.label_delay_batches) + " batch(es) late";
  fleet_summary_.final_version = final_version_;
  AddEvents(r, fleet_summary_);
  r.arms["frozen"] = frozen_summary_;
  r.arms["fleet"] = fleet_summary_;
  r.notes = Notes();
  rep.coordinator_events = events_.Events();
  for (const nlohmann::json& e : rep.coordinator_events) {
    const int64_t b = e["batch"].is_number() ? e["batch"].get<int64_t>() : -1;
    const std::string event = e.value("event", std::string());
    if (event == "drift_detected" && !rep.drift_detected) rep.first_drift_batch = b;
    if (event == "version_published" && !e.contains("weights_of") && !rep.healed) rep.first_heal_batch = b;
    rep.drift_detected = rep.drift_detected || event == "drift_detected";
    rep.healed = rep.healed || (event == "version_published" && !e.contains("weights_of"));
  }
  rep.converged = AllServe(final_version_, milliseconds(2000));
  rep.replicas = static_cast<int>(clients_.size());
  rep.label_delay_batches = opt_.label_delay_batches;
  rep.label_fraction = opt_.label_fraction;
  return rep;
}

Result<std::vector<std::unique_ptr<transport::ScoringClient>>> ClientsFor(const std::vector<std::string>& endpoints) {
  std::vector<std::unique_ptr<transport::ScoringClient>> clients;
  for (const std::string& endpoint : endpoints) {
    transport::ScoringClientOptions o;
    o.endpoints = {endpoint};
    o.attempt_timeout = milliseconds(3000);
    o.max_attempts = 3;
    auto client = transport::ScoringClient::Create(o);
    if (!client.ok()) return client.status();
    clients.push_back(std::move(*client));
  }
  return clients;
}

}  // namespace

Result<CsvStreamReport> RunCsvStream(const CsvStreamOptions& opt, std::function<void(const std::string&)> print) {
  if (opt.batch_rows == 0 || opt.replicas < 1) return Status::InvalidArgument("--batch and --replicas must be at least 1");
  REFLEX_RETURN_IF_ERROR(opt.policy.Validate());
  Result<ScenarioData> data = Status::InvalidArgument("no data");
  Result<std::shared_ptr<const ModelBundle>> bundle = Status::InvalidArgument("no bundle");
  if (!opt.bundle_path.empty()) {
    auto loaded = LoadModelBundle(opt.bundle_path);
    if (!loaded.ok()) return loaded.status().WithContext("--bundle");
    if (loaded->model->num_classes() >= 2) {
      return Status::InvalidArgument("--bundle " + opt.bundle_path + " holds a " + std::to_string(loaded->model->num_classes()) +
                                     "-class model; the cluster serves binary models only for now (wire protocol version 1 "
                                     "carries one probability per row; K-class replies come with protocol version 2)");
    }
    data = LoadBundleStream(*loaded, opt.stream_path, opt.label_column, opt.batch_rows);
    if (!data.ok()) return data.status();
    if (print) print("deploying your model from " + opt.bundle_path + " (" + loaded->model->spec().source + ", " +
                     std::to_string(loaded->clean->rows()) + " clean rows)");
    bundle = std::make_shared<const ModelBundle>(std::move(*loaded));
  } else {
    data = LoadUserData(opt.train_path, opt.stream_path, opt.label_column, opt.rules_path, opt.monitor, opt.batch_rows);
    if (!data.ok()) return data.status();
    if (print) print("training the deployed model on " + opt.train_path + " (" + std::to_string(data->train.rows()) + " rows, seed " + std::to_string(opt.seed) + ")");
    bundle = BundleFor(*data, opt);
    if (!bundle.ok()) return bundle.status();
  }

  EventRecorder events(print);
  FleetOptions fo;
  fo.replicas = opt.replicas;
  fo.summary_rows = static_cast<int>(opt.batch_rows);
  fo.summary_interval_ms = kNoTimer;
  fo.policy = opt.policy;
  fo.log_for = [&events](const std::string& who) { return who == "coordinator" ? events.Log() : actors::EventLog(); };
  auto fleet = EmbeddedFleet::Start(*bundle, fo);
  if (!fleet.ok()) return fleet.status();
  auto clients = ClientsFor((*fleet)->endpoints());
  if (!clients.ok()) return clients.status();
  if (print) {
    print("cluster up: coordinator, healer-1, " + std::to_string(opt.replicas) + " replica(s); streaming " +
          std::to_string(data->stream.rows() / opt.batch_rows) + " batches of " + std::to_string(opt.batch_rows) + " rows");
  }
  Driver driver(opt, *data, *bundle, **fleet, std::move(*clients), events);
  REFLEX_RETURN_IF_ERROR(driver.Run());
  return driver.Finish();
}

Status WriteCsvStreamOutputs(const std::string& dir, const CsvStreamReport& rep) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return Status::IoError("cannot create output folder " + dir + ": " + error.message());
  nlohmann::json summary = SummaryValue(rep.result);
  auto batch_or_null = [](int64_t b) { return b < 0 ? nlohmann::json(nullptr) : nlohmann::json(b); };
  summary["cluster"] = {{"replicas", rep.replicas},
                        {"label_delay_batches", rep.label_delay_batches},
                        {"label_fraction", rep.label_fraction},
                        {"drift_detected", rep.drift_detected},
                        {"first_drift_batch", batch_or_null(rep.first_drift_batch)},
                        {"healed", rep.healed},
                        {"first_heal_batch", batch_or_null(rep.first_heal_batch)},
                        {"converged", rep.converged}};
  nlohmann::json events = EventsValue(rep.result);
  events["coordinator_events"] = rep.coordinator_events;
  const fs::path folder(dir);
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically((folder / "summary.json").string(), summary.dump(2) + "\n"));
  REFLEX_RETURN_IF_ERROR(WriteFileAtomically((folder / "metrics.csv").string(), MetricsCsv(rep.result)));
  return WriteFileAtomically((folder / "events.json").string(), events.dump(2) + "\n");
}

}  // namespace reflex::sim
