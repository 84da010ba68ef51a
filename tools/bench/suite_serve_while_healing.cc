// Suite "serve-while-healing": one replica at half of its 1-row saturation rate (from the serve
// suite of this run, or measured here), in interleaved windows: quiet; swaps only; disturbed with
// heals at normal priority; disturbed with heals at nice 19 (as ServingEngine runs its heals).
// Disturbed means a new adapter version published on the weight bus every 100 ms (the replica compiles and
// swaps it) while Reflex heals (its default policy on 100 drifted rows, no labels) run back to
// back on another thread of the same process. Reports the ratio of p99 disturbed to p99 quiet,
// each the median over the rounds, and the original's ratio measured by original_style.py.
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
  auto disturbed = [&](bool heals_on, int nice) -> Result<LoadResult> {
    Status swap_status, heal_status;
    Repeater swapper(std::chrono::milliseconds(100), [&] {
      Status s = (*replica)->PublishNextVersion();
      if (!s.ok()) swap_status = s;
    });
    Repeater healer(std::chrono::milliseconds(heals_on ? 0 : 10), [&, lowered = false]() mutable {
      if (!heals_on) return;
      if (nice > 0 && !lowered) lowered = LowerThisThreadPriority(nice).ok();
      const auto t0 = std::chrono::steady_clock::now();
      auto outcome = Heal(*b.model, *b.calibration, job);
      heal_seconds = heal_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!outcome.ok()) heal_status = outcome.status();
    });
    auto busy = RunLoadStep(ctx, endpoint, 1, rate, window);
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
