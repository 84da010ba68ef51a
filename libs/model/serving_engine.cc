#include "model/serving_engine.h"

#include <atomic>
#include <exception>
#include <string>
#include <utility>

#include "model/compute_threads.h"

namespace reflex {

struct ServingEngine::HealThread {
  std::thread thread;
  std::atomic<bool> done{false};
};

Result<std::unique_ptr<ServingEngine>> ServingEngine::Create(std::shared_ptr<const HealableModel> model,
                                                             const AdapterVersion& initial) {
  if (model == nullptr) return Status::InvalidArgument("serving engine: no model");
  Result<std::shared_ptr<const CompiledAdapter>> compiled = model->Compile(initial);
  if (!compiled.ok()) {
    return compiled.status().WithContext("serving engine: initial adapter version " + std::to_string(initial.version));
  }
  auto snapshot = std::make_shared<const Snapshot>(Snapshot{initial, std::move(compiled).value()});
  return std::unique_ptr<ServingEngine>(new ServingEngine(std::move(model), std::move(snapshot)));
}

ServingEngine::ServingEngine(std::shared_ptr<const HealableModel> model, std::shared_ptr<const Snapshot> initial)
    : model_(std::move(model)), current_(std::move(initial)) {}

ServingEngine::~ServingEngine() {
  std::vector<std::unique_ptr<HealThread>> heals;
  {
    std::lock_guard<std::mutex> lock(heals_mutex_);
    heals.swap(heals_);
  }
  for (auto& h : heals) {
    if (h->thread.joinable()) h->thread.join();
  }
}

std::shared_ptr<const ServingEngine::Snapshot> ServingEngine::Current() const {
  return std::atomic_load(&current_);
}

Result<ServingEngine::Scored> ServingEngine::Score(BatchView rows) const {
  const std::shared_ptr<const Snapshot> snapshot = Current();  // pinned for the whole call
  Scored scored;
  scored.version = snapshot->adapter.version;
  scored.probs.resize(rows.rows * model_->outputs_per_row());  // K per row for a K-class model
  REFLEX_RETURN_IF_ERROR(model_->Score(*snapshot->compiled, rows, scored.probs.data()));
  return scored;
}

Status ServingEngine::Publish(const AdapterVersion& adapter) {
  // Integrity first: the version number of a garbled adapter means nothing. Compiling happens
  // outside every lock, so neither scoring nor other publishes wait for it.
  Result<std::shared_ptr<const CompiledAdapter>> compiled = model_->Compile(adapter);
  if (!compiled.ok()) {
    return compiled.status().WithContext("publish: adapter version " + std::to_string(adapter.version) + " refused");
  }
  auto next = std::make_shared<const Snapshot>(Snapshot{adapter, std::move(compiled).value()});
  std::lock_guard<std::mutex> lock(publish_mutex_);
  // Versions are ordered by (epoch, version): a coordinator that restarted under a new epoch may
  // re-number from an older version (its registry lost a damaged newer one), and its versions
  // still supersede everything of the old epoch.
  const AdapterVersion& serving = Current()->adapter;
  if (std::make_pair(adapter.epoch, adapter.version) <= std::make_pair(serving.epoch, serving.version)) {
    return Status::FailedPrecondition("publish: adapter version " + std::to_string(adapter.version) + " (epoch " +
                                      std::to_string(adapter.epoch) + ") is not newer than the serving version " +
                                      std::to_string(serving.version) + " (epoch " + std::to_string(serving.epoch) + ")");
  }
  std::atomic_store(&current_, std::shared_ptr<const Snapshot>(std::move(next)));
  return Status();
}

void ServingEngine::ReapFinishedHeals() {
  for (auto it = heals_.begin(); it != heals_.end();) {
    if ((*it)->done.load(std::memory_order_acquire)) {
      if ((*it)->thread.joinable()) (*it)->thread.join();  // already finishing: returns at once
      it = heals_.erase(it);
    } else {
      ++it;
    }
  }
}

std::future<Result<HealOutcome>> ServingEngine::HealAsync(std::shared_ptr<const HealCalibration> calibration,
                                                          HealJob job) {
  auto promise = std::make_shared<std::promise<Result<HealOutcome>>>();
  std::future<Result<HealOutcome>> future = promise->get_future();
  if (calibration == nullptr) {
    promise->set_value(Status::InvalidArgument("heal: no calibration"));
    return future;
  }
  job.base = Current()->adapter;  // a copy: the heal never touches the serving snapshot
  if (job.new_version == 0) job.new_version = job.base.version + 1;

  auto worker = std::make_unique<HealThread>();
  HealThread* self = worker.get();
  const int core = heal_core_.load(std::memory_order_relaxed);
  auto run = [this, self, core, promise, calibration = std::move(calibration), job = std::move(job)]() {
    Result<HealOutcome> result = Status::Internal("heal: did not run");
    // Scoring shares this machine: a heal takes only the CPU that scoring leaves idle
    // (best effort: a refusal leaves the heal at normal priority).
    (void)LowerThisThreadPriority();
    if (core >= 0) (void)PinThisThreadToCore(core);  // best effort, as the priority
    try {
      result = Heal(*model_, *calibration, job);
      if (result.ok() && result->candidate.has_value()) {
        Status published = Publish(*result->candidate);
        if (!published.ok()) {
          HealReport& report = result->report;
          report.accepted = false;
          report.reason = "rejected: not published (" + published.message() + "); gate said: " + report.reason;
          result->candidate.reset();
        }
      }
    } catch (const std::exception& e) {
      result = Status::Internal(std::string("heal: ") + e.what());
    } catch (...) {
      result = Status::Internal("heal: unknown exception");
    }
    promise->set_value(std::move(result));
    self->done.store(true, std::memory_order_release);
  };

  std::lock_guard<std::mutex> lock(heals_mutex_);
  ReapFinishedHeals();
  try {
    worker->thread = std::thread(std::move(run));
  } catch (const std::system_error& e) {
    promise->set_value(Status::ResourceExhausted(std::string("heal: cannot start a thread: ") + e.what()));
    return future;
  }
  heals_.push_back(std::move(worker));
  return future;
}

}  // namespace reflex
