// Open-loop load generator: sends score requests to one scoring endpoint at a fixed mean rate
// with Poisson arrivals (exponential gaps), for a bounded duration, whatever the server does,
// and measures each reply's latency from the moment the request was DUE, not from when it was
// actually sent, so a generator or server that falls behind cannot hide the queueing delay
// (no coordinated omission).
//
// It runs in its own process (reflex-bench-loadgen, loadgen_main.cc, spawned by the serve suites
// through RunLoadGeneratorProcess) so its CPU use and its ZeroMQ context are not the server's.
// One thread, one DEALER socket (pinned to LoadOptions::cpu when set); between sends it sleeps in ppoll(2) on the socket's ZMQ_FD
// with a nanosecond timeout, so replies are timestamped when they arrive.
// Bounded: sending stops after duration_s; replies are awaited at most drain_ms more; a request
// without a reply by then is counted as lost.
// Units: rates in requests per second, latencies in microseconds, durations as named.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace reflex::bench {

struct LoadOptions {
  std::string endpoint;          // e.g. tcp://127.0.0.1:40123
  double rate_rps = 1000;        // mean requests per second
  double duration_s = 1.0;       // sending window
  uint32_t rows_per_request = 1;
  uint32_t cols = 10;
  uint64_t seed = 1;
  int drain_ms = 1000;           // wait for outstanding replies after the window
  int cpu = -1;                  // >= 0: the generator pins itself to this core (taskset-style)
};

struct LoadResult {
  double offered_rps = 0;        // the mean rate asked for
  uint64_t sent = 0, ok = 0, errors = 0, overloaded = 0, lost = 0;
  double achieved_rps = 0;       // ok replies / time from the first due send to the last ok reply
                                 // (at least duration_s)
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;  // ok replies only
  double max_send_lag_us = 0;    // how far the generator itself fell behind its schedule
  double server_cpu_s = -1;      // filled by the caller: CPU the serving process used meanwhile
                                 // (-1: not measured; not part of the generator's JSON)
};

nlohmann::json ToJson(const LoadOptions& options);
nlohmann::json ToJson(const LoadResult& result);
Result<LoadOptions> LoadOptionsFromJson(const nlohmann::json& j);
Result<LoadResult> LoadResultFromJson(const nlohmann::json& j);

// Runs the load in this process (reflex-bench-loadgen's body). Unavailable when the socket
// cannot connect.
Result<LoadResult> GenerateLoad(const LoadOptions& options);

// Runs `loadgen_exe '<options json>'` (reflex-bench-loadgen) as a child process and reads its
// result line.
Result<LoadResult> RunLoadGeneratorProcess(const std::string& loadgen_exe, const LoadOptions& options);

}  // namespace reflex::bench
