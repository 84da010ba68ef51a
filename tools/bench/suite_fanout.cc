// Suite "fan-out": time for one adapter version to reach 1, 16, 64 and 256 subscribers: from
// WeightPublisher::Publish() until the last WeightSubscriber has applied it (its on_apply ran:
// decoded, fence-checked, checksum verified). The publisher binds 127.0.0.1 (TCP loopback) on its
// own ZeroMQ context, as a coordinator process would; the subscribers are many lightweight
// WeightSubscriber instances in this process sharing one context (one thread each), which is
// what 256 replica processes would cost minus the processes. Each fan-out is measured several
// times, a version every 200 ms; the suite reports the median and the worst.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "bench_context.h"
#include "transport/weight_publisher.h"
#include "transport/weight_subscriber.h"

namespace reflex::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Arrivals {
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::pair<size_t, Clock::time_point>> by_version;  // count, last arrival
  void Applied(uint64_t version) {
    std::lock_guard<std::mutex> lock(mu);
    auto& a = by_version[version];
    ++a.first;
    a.second = Clock::now();
    cv.notify_all();
  }
};

// Median and worst fan-out time (ms) of `repeats` versions to `count` subscribers.
Result<std::pair<double, double>> MeasureFanOut(const ModelBundle& bundle, size_t count, int repeats) {
  zmq::context_t publisher_context(1);
  zmq::context_t subscriber_context(1);
  transport::WeightPublisherOptions po;
  po.sender_id = "bench-fanout";
  auto publisher = transport::WeightPublisher::Start(publisher_context, po);
  if (!publisher.ok()) return publisher.status();
  AdapterVersion version = bundle.model->initial_adapter();
  auto first = (*publisher)->Publish(version);
  if (!first.ok()) return first.status();

  Arrivals arrivals;
  std::vector<std::unique_ptr<transport::WeightSubscriber>> subscribers;
  auto stop_all = [&] {
    for (auto& s : subscribers) s->RequestStop();
    subscribers.clear();
    (*publisher)->Stop();
  };
  for (size_t i = 0; i < count; ++i) {
    transport::WeightSubscriberOptions so;
    so.subscriber_id = "sub-" + std::to_string(i);
    so.publish_endpoint = (*publisher)->publish_endpoint();
    so.snapshot_endpoint = (*publisher)->snapshot_endpoint();
    so.expected_dims = bundle.model->adapter_dims();
    so.on_apply = [&arrivals](const AdapterVersion& v) { arrivals.Applied(v.version); };
    auto s = transport::WeightSubscriber::Start(subscriber_context, std::move(so));
    if (!s.ok()) {
      stop_all();
      return s.status();
    }
    subscribers.push_back(std::move(*s));
  }
  {
    std::unique_lock<std::mutex> lock(arrivals.mu);
    if (!arrivals.cv.wait_for(lock, std::chrono::seconds(30), [&] { return arrivals.by_version[0].first >= count; })) {
      lock.unlock();
      stop_all();
      return Status::DeadlineExceeded("not all " + std::to_string(count) + " subscribers took the snapshot in 30 s");
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // subscriptions settle

  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    AdapterVersion next = version;
    next.parent = version.version;
    next.version = version.version + 1;
    next.weights.back() += 1e-6f;
    next.Seal();
    const Clock::time_point sent = Clock::now();
    auto published = (*publisher)->Publish(next);
    if (!published.ok()) {
      stop_all();
      return published.status();
    }
    std::unique_lock<std::mutex> lock(arrivals.mu);
    const bool all = arrivals.cv.wait_for(lock, std::chrono::seconds(10),
                                          [&] { return arrivals.by_version[next.version].first >= count; });
    if (!all) {
      lock.unlock();
      stop_all();
      return Status::DeadlineExceeded("version " + std::to_string(next.version) + " did not reach all " +
                                      std::to_string(count) + " subscribers in 10 s");
    }
    ms.push_back(std::chrono::duration<double, std::milli>(arrivals.by_version[next.version].second - sent).count());
    lock.unlock();
    version = next;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop_all();
  std::sort(ms.begin(), ms.end());
  return std::make_pair(ms[ms.size() / 2], ms.back());
}

}  // namespace

Status RunFanOutSuite(BenchContext& ctx) {
  auto bundle = ctx.Bundle();
  if (!bundle.ok()) return bundle.status();
  const std::vector<size_t> counts = ctx.quick() ? std::vector<size_t>{1, 16} : std::vector<size_t>{1, 16, 64, 256};
  const int repeats = ctx.quick() ? 2 : 7;
  for (size_t count : counts) {
    auto t = MeasureFanOut(**bundle, count, repeats);
    if (!t.ok()) return t.status();
    const nlohmann::json params = {{"subscribers", count}, {"versions", repeats}, {"transport", "tcp loopback"}};
    ctx.report().Add("fanout_median_ms", t->first, "ms", params);
    ctx.report().Add("fanout_max_ms", t->second, "ms", params);
  }
  return Status();
}

}  // namespace reflex::bench
