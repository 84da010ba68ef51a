// ServingEngine: one process's scoring path with hot-swappable adapter versions and background
// heals (docs/DESIGN.md §1, §3).
//
// Scoring reads an immutable Snapshot (an adapter version and its compiled tensors). Publishing a
// version compiles it first, off to the side, and then swaps the snapshot pointer atomically
// (std::atomic_load / std::atomic_store on a shared_ptr<const Snapshot>), so:
//   - a Score() call takes one snapshot and scores every row of its batch with that version;
//   - Score() and Current() never wait for a compile, a publish or a heal (they only copy a
//     shared_ptr);
//   - a snapshot handed out by Current() stays valid (pinned) for as long as the caller holds it,
//     even after newer versions are published.
// A heal (HealAsync) runs on its own std::thread, at the lowest CPU priority (nice 19,
// model/compute_threads.h) so that scoring on the same cores comes first, and, after
// SetHealCore(c), pinned to core c (keep c off the serving cores), on a copy of the current
// adapter: it never touches the serving snapshot, and on acceptance it publishes the candidate
// like any other version. Versions only move forward: Publish refuses a version whose (epoch, version) is not
// greater than the current one's.
//
// Ownership: the engine shares the model (shared_ptr<const HealableModel>, which must be fully
// trained before it is shared) and owns its heal threads. A HealJob's `rules` pointer and any
// state its `on_step` hook touches must outlive the heal (until its future is ready).
// Thread-safety: every method may be called from any thread concurrently. Publishes (direct ones
// and those made by heals) are serialised among themselves by a mutex that scoring never takes.
// The destructor joins every heal thread: a heal held by its on_step hook holds the destructor.
// Units: rows are float32 feature vectors in the model's column order (BatchView); outputs are
// probabilities in [0, 1]; versions are the adapter's version numbers.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/adapter_version.h"
#include "core/status.h"
#include "model/heal_calibration.h"
#include "model/healable_model.h"
#include "model/healer.h"

namespace reflex {

class ServingEngine {
 public:
  // One published version: the adapter value and its tensors. Immutable once published.
  struct Snapshot {
    AdapterVersion adapter;
    std::shared_ptr<const CompiledAdapter> compiled;
  };
  // A scored batch: model().outputs_per_row() probabilities per row (one for a binary model, K
  // row-major for a K-class model), and the version that scored all of them.
  struct Scored {
    std::vector<float> probs;
    uint64_t version = 0;
  };

  // Serves `initial` (usually model->initial_adapter()). Fails when the model is null or the
  // adapter does not compile for it (dims, Verify()).
  static Result<std::unique_ptr<ServingEngine>> Create(std::shared_ptr<const HealableModel> model,
                                                       const AdapterVersion& initial);

  ~ServingEngine();  // joins heal threads
  ServingEngine(const ServingEngine&) = delete;
  ServingEngine& operator=(const ServingEngine&) = delete;

  const HealableModel& model() const { return *model_; }

  // The version serving now. Never blocks on heals or publishes.
  std::shared_ptr<const Snapshot> Current() const;

  // Scores a batch (rows.cols must equal the model's input dims) with one snapshot: all rows are
  // scored by exactly one version, reported in Scored::version.
  Result<Scored> Score(BatchView rows) const;

  // Compiles `adapter`, then swaps it in. Refuses, and the current version keeps serving:
  //   InvalidArgument: wrong dims, non-finite or missing weights (from Compile/Verify);
  //   Corruption:      checksum mismatch (a torn or garbled version);
  //   FailedPrecondition: (adapter.epoch, adapter.version) <= the current version's.
  Status Publish(const AdapterVersion& adapter);

  // Runs Heal() on a new thread with job.base = a copy of Current()->adapter. When job.new_version
  // is 0 the candidate is numbered Current()->adapter.version + 1 (taken when the heal starts).
  // An accepted candidate is published before the future becomes ready. If the publish is
  // refused (a newer version was published while the heal ran, or job.new_version was not newer),
  // the outcome comes back with no candidate, accepted = false and a reason starting
  // "rejected: not published". The future yields the heal's error Status for bad jobs or a null
  // calibration.
  std::future<Result<HealOutcome>> HealAsync(std::shared_ptr<const HealCalibration> calibration, HealJob job);

  // Heals started after this call pin their thread to `core` (>= 0), or stay unpinned (-1, the
  // default). A core the kernel refuses leaves the heal unpinned (best effort, like the nice
  // value). Costs of each option: reflex-bench --suite serve-while-healing (heal_priority).
  void SetHealCore(int core) { heal_core_.store(core, std::memory_order_relaxed); }

 private:
  struct HealThread;

  ServingEngine(std::shared_ptr<const HealableModel> model, std::shared_ptr<const Snapshot> initial);
  void ReapFinishedHeals();  // requires heals_mutex_

  std::shared_ptr<const HealableModel> model_;
  std::shared_ptr<const Snapshot> current_;  // read/written only with std::atomic_load/store
  std::mutex publish_mutex_;                 // serialises the compare-and-swap in Publish
  std::mutex heals_mutex_;                   // guards heals_
  std::vector<std::unique_ptr<HealThread>> heals_;
  std::atomic<int> heal_core_{-1};
};

}  // namespace reflex
