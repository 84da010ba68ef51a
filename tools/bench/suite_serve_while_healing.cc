// Suite "serve-while-healing": one replica at half of its 1-row saturation rate (from the serve
// suite of this run, or measured here), in interleaved windows: quiet; swaps only; disturbed with
// heals at normal priority; disturbed with heals at nice 19 (as ServingEngine runs its heals).
// Disturbed means a new adapter version published on the weight bus every 100 ms (the replica compiles and
// swaps it) while Reflex heals (its default policy on 100 drifted rows, no labels) run back to
// back on another thread of the same process. Reports the ratio of p99 disturbed to p99 quiet,
// each the median over the rounds, and the original's ratio measured by original_style.py.
// Then the same quiet/healing pair pinned (figures with heal_priority "pinned"): a second replica
// whose threads are all on core 0, the load generator and the heal thread on core 1, so the
// heal never runs on the serving core; its ratio is against the pinned quiet windows.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bench_context.h"
#include "load_ladder.h"
#include "model/compute_threads.h"
#include "model/healer.h"
#include "served_replica.h"

namespace reflex::bench {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs `body` on its own thread every `period` (or back to back when period is 0) until stopped.
class Repeater {
 public:
  Repeater(std::chrono::milliseconds period, std::function<void()> body)
      : thread_([this, period, body = std::move(body)] {
          auto next = std::chrono::steady_clock::now();
          while (!stop_.load()) {
            body();
            ++count_;
            if (period.count() > 0) {
              next += period;
              while (!stop_.load() && std::chrono::steady_clock::now() < next) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
              }
            }
          }
        }) {}
  ~Repeater() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  uint64_t count() const { return count_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> count_{0};
  std::thread thread_;
};

}  // namespace

// The pinned pair: a replica started from a thread pinned to core 0 (its threads inherit the
// mask), the load generator on core 1, and `heal_window(endpoint, 1)` running heals pinned to
// core 1. Adds healing_p99_*_us and serve_while_healing_p99_ratio with heal_priority "pinned".
template <typename HealWindow>
Status RunPinnedWindows(BenchContext& ctx, int rounds, double rate, double window, const nlohmann::json& params,
                        HealWindow heal_window) {
  cpu_set_t usable;
  if (sched_getaffinity(0, sizeof usable, &usable) != 0 || !CPU_ISSET(0, &usable) || !CPU_ISSET(1, &usable)) {
    ctx.report().Note("serve-while-healing pinned windows skipped: cores 0 and 1 are not both usable");
    return Status();
  }
  REFLEX_RETURN_IF_ERROR(PinThisThreadToCore(0));
  auto bundle = ctx.Bundle();
  auto replica = bundle.ok() ? ServedReplica::Start(*bundle, true, 2) : Result<std::unique_ptr<ServedReplica>>(bundle.status());
  sched_setaffinity(0, sizeof usable, &usable);
  if (!replica.ok()) return replica.status();
  ctx.loadgen_cpu = 1;
  std::vector<double> quiet, healing;
  Status status;
  for (int i = 0; i < rounds && status.ok(); ++i) {
    auto q = RunLoadStep(ctx, (*replica)->endpoint(), 1, rate, window);
    auto h = q.ok() ? heal_window((*replica)->endpoint(), 1) : q;
    if (!h.ok()) {
      status = h.status();
      break;
    }
    quiet.push_back(q->p99_us);
    healing.push_back(h->p99_us);
  }
  ctx.loadgen_cpu = -1;
  REFLEX_RETURN_IF_ERROR(status);
  nlohmann::json p = params;
  p["heal_priority"] = "pinned";
  p["server_core"] = 0;
  p["heal_and_loadgen_core"] = 1;
  const double quiet_p99 = Median(quiet);
  ctx.report().Add("healing_p99_without_us", quiet_p99, "us", p);
  ctx.report().Add("healing_p99_with_us", Median(healing), "us", p);
  ctx.report().Add("serve_while_healing_p99_ratio", quiet_p99 > 0 ? Median(healing) / quiet_p99 : 0, "ratio", p);
  return Status();
}

Status RunServeWhileHealingSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  SetComputeThreads(1);
  BenchReport& report = ctx.report();
  auto replica = ServedReplica::Start(*bundle, true, 2);
  if (!replica.ok()) return replica.status();
  const std::string endpoint = (*replica)->endpoint();
  if (ctx.saturation_rps <= 0) {
    auto ladder = ClimbToSaturation(ctx, endpoint, 1, ctx.quick() ? 500 : 2000, {{"rows_per_request", 1}, {"batching", true}});
    if (!ladder.ok()) return ladder.status();
    ctx.saturation_rps = ladder->saturation_rps;
  }
  const double rate = std::max(1.0, ctx.saturation_rps / 2);

  // The heal job: the original's size (100 rows, 5 steps), on drifted rows, no labels.
  const ModelBundle& b = **bundle;
  const size_t cols = b.model->input_dims();
  HealJob job;
  job.base = b.model->initial_adapter();
  job.n_rows = std::min<size_t>(100, ctx.streams().drift.rows());
  job.rows.assign(ctx.streams().drift.features.begin(), ctx.streams().drift.features.begin() + job.n_rows * cols);
  job.rules = b.rules.get();
  job.policy.steps = 5;
  job.new_version = 1;

  const int rounds = ctx.quick() ? 1 : 5;
  const double window = ctx.quick() ? 0.3 : 2 * ctx.options().step_seconds;
  std::vector<double> p99_quiet, p99_swaps, p99_normal, p99_low, p999_low;
  uint64_t swaps = 0, heals = 0;
  std::atomic<double> heal_seconds{0};
  const uint64_t version_before = (*replica)->served_version();
  // One disturbed window: swaps every 100 ms plus, when `heals`, back-to-back heals at `nice`
  // (0: normal priority).
  std::string serving = endpoint;  // the replica the windows load
  int heal_core = -1;                // >= 0: the heal thread pins itself there
  auto disturbed = [&](bool heals_on, int nice) -> Result<LoadResult> {
    Status swap_status, heal_status;
    Repeater swapper(std::chrono::milliseconds(100), [&] {
      Status s = (*replica)->PublishNextVersion();
      if (!s.ok()) swap_status = s;
    });
    Repeater healer(std::chrono::milliseconds(heals_on ? 0 : 10), [&, lowered = false]() mutable {
      if (!heals_on) return;
      if (!lowered) lowered = (nice <= 0 || LowerThisThreadPriority(nice).ok()) &&
                              (heal_core < 0 || PinThisThreadToCore(heal_core).ok());
      const auto t0 = std::chrono::steady_clock::now();
      auto outcome = Heal(*b.model, *b.calibration, job);
      heal_seconds = heal_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!outcome.ok()) heal_status = outcome.status();
    });
    auto busy = RunLoadStep(ctx, serving, 1, rate, window);
    swapper.Stop();
    healer.Stop();
    swaps += swapper.count();
    if (heals_on) heals += healer.count();
    if (!swap_status.ok()) return swap_status;
    if (!heal_status.ok()) return heal_status;
    return busy;
  };
  // Interleaved rounds, so that a change in the machine's other load hits every kind alike.
  for (int i = 0; i < rounds; ++i) {
    auto quiet = RunLoadStep(ctx, endpoint, 1, rate, window);
    if (!quiet.ok()) return quiet.status();
    p99_quiet.push_back(quiet->p99_us);
    auto swaps_only = disturbed(false, 0);
    if (!swaps_only.ok()) return swaps_only.status();
    p99_swaps.push_back(swaps_only->p99_us);
    auto normal = disturbed(true, 0);
    if (!normal.ok()) return normal.status();
    p99_normal.push_back(normal->p99_us);
    auto low = disturbed(true, 19);
    if (!low.ok()) return low.status();
    p99_low.push_back(low->p99_us);
    p999_low.push_back(low->p999_us);
  }
  const nlohmann::json params = {{"rate_rps", rate}, {"rows_per_request", 1}, {"windows", rounds}, {"window_s", window}};
  auto with = [&](const char* heal_priority) {
    nlohmann::json p = params;
    p["heal_priority"] = heal_priority;
    return p;
  };
  const double quiet_p99 = Median(p99_quiet);
  report.Add("healing_p99_without_us", quiet_p99, "us", params);
  report.Add("healing_p99_swaps_only_us", Median(p99_swaps), "us", params);
  report.Add("healing_p99_with_us", Median(p99_normal), "us", with("normal"));
  report.Add("healing_p99_with_us", Median(p99_low), "us", with("nice19"));
  report.Add("healing_p999_with_us", Median(p999_low), "us", with("nice19"));
  report.Add("swaps_only_p99_ratio", quiet_p99 > 0 ? Median(p99_swaps) / quiet_p99 : 0, "ratio", params);
  report.Add("serve_while_healing_p99_ratio", quiet_p99 > 0 ? Median(p99_normal) / quiet_p99 : 0, "ratio", with("normal"));
  report.Add("serve_while_healing_p99_ratio", quiet_p99 > 0 ? Median(p99_low) / quiet_p99 : 0, "ratio", with("nice19"));
  const nlohmann::json heal_params = {{"rows", job.n_rows}, {"steps", job.policy.steps}, {"distill_steps", job.policy.distill_steps}};
  report.Add("healing_versions_swapped", static_cast<double>((*replica)->served_version() - version_before), "versions",
             {{"published", swaps}, {"period_ms", 100}});
  report.Add("healing_heals_run", static_cast<double>(heals), "heals", heal_params);
  if (heals > 0) report.Add("heal_ms", 1000 * heal_seconds / static_cast<double>(heals), "ms", heal_params);
  REFLEX_RETURN_IF_ERROR(RunPinnedWindows(ctx, rounds, rate, window, params, [&](const std::string& ep, int core) {
    serving = ep;
    heal_core = core;
    return disturbed(true, 0);
  }));
  auto original = ctx.Original();
  if (original.ok()) {
    report.Add("original_heal_ms", (*original)["heal_ms"].get<double>(), "ms", {{"rows", 100}, {"steps", 5}});
    report.Add("original_p99_without_heal_us", (*original)["p99_without_heal_us"].get<double>(), "us", {{"rows", 1}});
    report.Add("original_p99_with_heal_us", (*original)["p99_with_heal_us"].get<double>(), "us", {{"rows", 1}});
    report.Add("original_p99_ratio", (*original)["p99_ratio"].get<double>(), "ratio", {{"rows", 1}});
  } else {
    report.Note("original's figures skipped: " + original.status().message());
  }
  return Status();
}

}  // namespace reflex::bench
