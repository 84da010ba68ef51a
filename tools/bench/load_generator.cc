#include "load_generator.h"

#include <sched.h>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "latency_stats.h"
#include "wire/codec.h"
#include "wire/messages.h"

extern char** environ;

namespace reflex::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

nlohmann::json ToJson(const LoadOptions& o) {
  return {{"endpoint", o.endpoint}, {"rate_rps", o.rate_rps}, {"duration_s", o.duration_s},
          {"rows_per_request", o.rows_per_request}, {"cols", o.cols}, {"seed", o.seed}, {"drain_ms", o.drain_ms}, {"cpu", o.cpu}};
}

nlohmann::json ToJson(const LoadResult& r) {
  return {{"offered_rps", r.offered_rps}, {"sent", r.sent}, {"ok", r.ok}, {"errors", r.errors},
          {"overloaded", r.overloaded}, {"lost", r.lost}, {"achieved_rps", r.achieved_rps}, {"p50_us", r.p50_us},
          {"p99_us", r.p99_us}, {"p999_us", r.p999_us}, {"max_us", r.max_us}, {"mean_us", r.mean_us},
          {"max_send_lag_us", r.max_send_lag_us}};
}

Result<LoadOptions> LoadOptionsFromJson(const nlohmann::json& j) {
  try {
    LoadOptions o;
    o.endpoint = j.at("endpoint").get<std::string>();
    o.rate_rps = j.at("rate_rps").get<double>();
    o.duration_s = j.at("duration_s").get<double>();
    o.rows_per_request = j.at("rows_per_request").get<uint32_t>();
    o.cols = j.at("cols").get<uint32_t>();
    o.seed = j.value("seed", uint64_t{1});
    o.drain_ms = j.value("drain_ms", 1000);
    o.cpu = j.value("cpu", -1);
    if (o.endpoint.empty() || !(o.rate_rps > 0) || !(o.duration_s > 0) || o.rows_per_request == 0 || o.cols == 0 ||
        o.drain_ms < 0) {
      return Status::InvalidArgument("load options need an endpoint, rate_rps > 0, duration_s > 0, rows and cols > 0");
    }
    return o;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("bad load options: ") + e.what());
  }
}

Result<LoadResult> LoadResultFromJson(const nlohmann::json& j) {
  try {
    LoadResult r;
    r.offered_rps = j.at("offered_rps").get<double>();
    r.sent = j.at("sent").get<uint64_t>();
    r.ok = j.at("ok").get<uint64_t>();
    r.errors = j.at("errors").get<uint64_t>();
    r.overloaded = j.at("overloaded").get<uint64_t>();
    r.lost = j.at("lost").get<uint64_t>();
    r.achieved_rps = j.at("achieved_rps").get<double>();
    r.p50_us = j.at("p50_us").get<double>();
    r.p99_us = j.at("p99_us").get<double>();
    r.p999_us = j.at("p999_us").get<double>();
    r.max_us = j.at("max_us").get<double>();
    r.mean_us = j.at("mean_us").get<double>();
    r.max_send_lag_us = j.at("max_send_lag_us").get<double>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Status::Internal(std::string("bad load result: ") + e.what());
  }
}

Result<LoadResult> GenerateLoad(const LoadOptions& o) {
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      return Status::IoError("load generator: cannot pin to core " + std::to_string(o.cpu) + ": " + std::strerror(errno));
    }
  }
  try {
    zmq::context_t context(1);
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::sndhwm, 0);  // open loop: never block or drop on our side
    dealer.set(zmq::sockopt::rcvhwm, 0);
    dealer.connect(o.endpoint);
    const int fd = dealer.get(zmq::sockopt::fd);

    // The schedule: Poisson arrivals at rate_rps over duration_s, fixed before the run starts.
    std::mt19937_64 rng(o.seed);
    std::exponential_distribution<double> gap(o.rate_rps);
    std::vector<double> due_s;
    for (double t = gap(rng); t < o.duration_s; t += gap(rng)) due_s.push_back(t);
    std::normal_distribution<float> feature(0.f, 1.f);
    std::vector<float> rows(static_cast<size_t>(o.rows_per_request) * o.cols);
    for (float& v : rows) v = feature(rng);

    std::vector<Clock::time_point> due(due_s.size());
    std::vector<uint8_t> answered(due_s.size(), 0);
    LatencyStats latency;
    LoadResult r;
    r.offered_rps = o.rate_rps;
    // Let the connection come up before the clock starts (not part of any request's latency).
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const Clock::time_point start = Clock::now();
    for (size_t i = 0; i < due.size(); ++i) {
      due[i] = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due_s[i]));
    }
    const Clock::time_point send_end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
    const Clock::time_point hard_end = send_end + std::chrono::milliseconds(o.drain_ms);
    Clock::time_point last_ok = start;
    size_t next = 0;
    uint64_t outstanding = 0;
    wire::ScoreRequest request;
    request.cols = o.cols;
    request.rows = rows;

    auto drain = [&]() {
      zmq::message_t msg;
      while (dealer.recv(msg, zmq::recv_flags::dontwait)) {
        const Clock::time_point now = Clock::now();
        wire::Decoded d = wire::Decode(msg.data(), msg.size());
        if (!d.ok()) { ++r.errors; continue; }
        const auto* reply = std::get_if<wire::ScoreReply>(&*d.message);
        if (!reply || reply->request_id == 0 || reply->request_id > due.size() || answered[reply->request_id - 1]) continue;
        answered[reply->request_id - 1] = 1;
        --outstanding;
        if (reply->error == wire::ErrorCode::kOk) {
          ++r.ok;
          last_ok = now;
          latency.Add(Micros(now - due[reply->request_id - 1]));
        } else if (reply->error == wire::ErrorCode::kOverloaded) {
          ++r.overloaded;
        } else {
          ++r.errors;
        }
      }
    };

    while (true) {
      drain();
      Clock::time_point now = Clock::now();
      while (next < due.size() && due[next] <= now) {
        request.request_id = next + 1;
        const std::string frame = wire::Encode(request);
        dealer.send(zmq::buffer(frame), zmq::send_flags::dontwait);
        r.max_send_lag_us = std::max(r.max_send_lag_us, Micros(Clock::now() - due[next]));
        ++r.sent;
        ++outstanding;
        ++next;
      }
      now = Clock::now();
      if (next >= due.size() && (outstanding == 0 || now >= hard_end)) break;
      if (now >= hard_end) break;
      // Sleep until the next send is due, or a reply may be waiting (ZMQ_FD is edge-like: only
      // sleep when ZMQ_EVENTS says nothing is readable).
      if (dealer.get(zmq::sockopt::events) & ZMQ_POLLIN) continue;
      const Clock::time_point wake = next < due.size() ? due[next] : hard_end;
      const auto wait_ns = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count());
      if (wait_ns == 0) continue;
      timespec ts{static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
      pollfd pfd{fd, POLLIN, 0};
      ppoll(&pfd, 1, &ts, nullptr);
    }
    r.lost = outstanding;
    const double elapsed = std::max(o.duration_s, std::chrono::duration<double>(last_ok - start).count());
    r.achieved_rps = static_cast<double>(r.ok) / elapsed;
    r.p50_us = latency.Quantile(0.50);
    r.p99_us = latency.Quantile(0.99);
    r.p999_us = latency.Quantile(0.999);
    r.max_us = latency.Max();
    r.mean_us = latency.Mean();
    return r;
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("load generator on " + o.endpoint + ": " + e.what());
  }
}

Result<LoadResult> RunLoadGeneratorProcess(const std::string& loadgen_exe, const LoadOptions& options) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return Status::IoError(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  const std::string json = ToJson(options).dump();
  std::vector<std::string> args = {loadgen_exe, json};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, loadgen_exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return Status::IoError("cannot start the load generator " + loadgen_exe + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status::Internal("the load generator failed (status " + std::to_string(wstatus) + "): " + out);
  }
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) return Status::Internal("the load generator printed no JSON: " + out);
  return LoadResultFromJson(j);
}

}  // namespace reflex::bench
