#define BOOST_TEST_MODULE transport_weight_bus
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "transport/weight_publisher.h"
#include "transport/weight_subscriber.h"
#include "weight_bus_test_support.h"

using namespace reflex;
using namespace reflex::transport;
using namespace reflex::transport::testing;
using std::chrono::milliseconds;

namespace {

std::unique_ptr<WeightPublisher> StartPublisher(zmq::context_t& context,
                                                WeightPublisherOptions options) {
  auto publisher = WeightPublisher::Start(context, std::move(options));
  BOOST_REQUIRE_MESSAGE(publisher.ok(), publisher.status().ToString());
  return std::move(publisher).value();
}

std::unique_ptr<WeightSubscriber> StartSubscriber(zmq::context_t& context,
                                                  WeightSubscriberOptions options) {
  auto subscriber = WeightSubscriber::Start(context, std::move(options));
  BOOST_REQUIRE_MESSAGE(subscriber.ok(), subscriber.status().ToString());
  return std::move(subscriber).value();
}

uint64_t LatestVersion(const WeightSubscriber& subscriber) {
  auto latest = subscriber.latest();
  return latest ? latest->version : 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(LateJoinerGetsLatestVersionBeforeItServes) {
  zmq::context_t context;
  auto options = FastPublisherOptions();
  options.heartbeat_interval = milliseconds(2000);  // the snapshot alone must deliver
  auto publisher = StartPublisher(context, options);
  for (uint64_t version = 1; version <= 3; ++version) {
    BOOST_REQUIRE(publisher->Publish(MakeAdapter(version, 1)).ok());
  }
  BOOST_REQUIRE(WaitUntil([&] { return publisher->stats().published == 3; }, milliseconds(2000)));

  AppliedLog applied;
  auto sub_options = FastSubscriberOptions(publisher->publish_endpoint(),
                                           publisher->snapshot_endpoint(), "late-joiner");
  sub_options.heartbeat_interval = milliseconds(2000);
  sub_options.on_apply = applied.Callback();
  auto subscriber = StartSubscriber(context, sub_options);
  BOOST_TEST(!subscriber->ready());
  BOOST_TEST(!subscriber->latest());

  BOOST_REQUIRE(WaitUntil([&] { return subscriber->ready(); }, milliseconds(5000)));
  BOOST_TEST(LatestVersion(*subscriber) == 3u);
  // The first version it could serve was already the newest: nothing older was ever applied.
  const auto history = applied.Get();
  BOOST_REQUIRE(!history.empty());
  BOOST_TEST(history.front().first == 3u);
  BOOST_TEST(subscriber->stats().snapshots_applied == 1u);
  BOOST_TEST(subscriber->latest()->Verify().ok());

  // And it keeps following the bus after the snapshot.
  BOOST_REQUIRE(publisher->Publish(MakeAdapter(4, 1)).ok());
  BOOST_TEST(WaitUntil([&] { return LatestVersion(*subscriber) == 4; }, milliseconds(5000)));
}

BOOST_AUTO_TEST_CASE(SubscriberThatMissedUpdatesConverges) {
  zmq::context_t context;
  auto publisher = StartPublisher(context, FastPublisherOptions());
  Relay relay(context, publisher->publish_endpoint());
  AppliedLog applied;
  auto sub_options = FastSubscriberOptions(relay.endpoint(), publisher->snapshot_endpoint());
  sub_options.heartbeat_misses = 20;  // loss here is short; this test is not about silence
  sub_options.on_apply = applied.Callback();
  auto subscriber = StartSubscriber(context, sub_options);

  BOOST_REQUIRE(publisher->Publish(MakeAdapter(1, 1)).ok());
  BOOST_REQUIRE(WaitUntil([&] { return LatestVersion(*subscriber) == 1; }, milliseconds(5000)));
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->stats().heartbeats_received > 0; },
                          milliseconds(5000)));

  // Lose the tail: versions 2..5 and the heartbeats around them never reach the subscriber.
  relay.set_dropping(true);
  for (uint64_t version = 2; version <= 5; ++version) {
    BOOST_REQUIRE(publisher->Publish(MakeAdapter(version, 1)).ok());
  }
  BOOST_REQUIRE(WaitUntil([&] { return publisher->stats().published == 5; }, milliseconds(2000)));
  BOOST_REQUIRE(WaitUntil([&] { return relay.dropped_updates() == 4; }, milliseconds(2000)));
  relay.set_dropping(false);
  // Nothing new is published: only a heartbeat ahead of it can tell the subscriber.
  BOOST_REQUIRE(WaitUntil([&] { return LatestVersion(*subscriber) == 5; }, milliseconds(5000)));
  BOOST_TEST(subscriber->stats().snapshots_applied >= 1u);

  // Lose one update in the middle: the next one shows a gap in the bus sequence.
  relay.set_dropping(true);
  BOOST_REQUIRE(publisher->Publish(MakeAdapter(6, 1)).ok());
  BOOST_REQUIRE(WaitUntil([&] { return relay.dropped_updates() == 5; }, milliseconds(2000)));
  // Let a heartbeat announcing 6 be lost too, so the gap is likely what the subscriber sees.
  const uint64_t heartbeats_before = relay.dropped_heartbeats();
  BOOST_REQUIRE(WaitUntil([&] { return relay.dropped_heartbeats() > heartbeats_before; },
                          milliseconds(2000)));
  relay.set_dropping(false);
  BOOST_REQUIRE(publisher->Publish(MakeAdapter(7, 1)).ok());
  BOOST_REQUIRE(WaitUntil([&] { return LatestVersion(*subscriber) == 7; }, milliseconds(5000)));

  const auto history = applied.Get();
  for (size_t i = 1; i < history.size(); ++i) BOOST_TEST(history[i].first > history[i - 1].first);
  const auto stats = subscriber->stats();
  BOOST_TEST(stats.dropped_total() - stats.dropped_for(DropReason::kDuplicate) -
                 stats.dropped_for(DropReason::kStaleVersion) == 0u);
  BOOST_TEST_MESSAGE("applied " << history.size() << " versions, gaps " << stats.sequence_gaps
                                << ", snapshots applied " << stats.snapshots_applied);
}

BOOST_AUTO_TEST_CASE(SilentPublisherIsNoticedAndLastVersionKept) {
  zmq::context_t context;
  std::vector<std::string> log;
  std::mutex log_mutex;
  auto publisher = StartPublisher(context, FastPublisherOptions(1));
  const std::string publish_endpoint = publisher->publish_endpoint();
  const std::string snapshot_endpoint = publisher->snapshot_endpoint();
  auto sub_options = FastSubscriberOptions(publish_endpoint, snapshot_endpoint);
  sub_options.log = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log.push_back(line);
  };
  auto subscriber = StartSubscriber(context, sub_options);
  BOOST_REQUIRE(publisher->Publish(MakeAdapter(1, 1)).ok());
  BOOST_REQUIRE(WaitUntil([&] { return LatestVersion(*subscriber) == 1; }, milliseconds(5000)));
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->state() == PublisherState::kLive; },
                          milliseconds(2000)));

  publisher.reset();  // the coordinator dies
  const auto died = std::chrono::steady_clock::now();
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->state() == PublisherState::kSilent; },
                          milliseconds(3000)));
  const auto noticed_ms = std::chrono::duration_cast<milliseconds>(
                              std::chrono::steady_clock::now() - died).count();
  BOOST_TEST_MESSAGE("silence noticed after " << noticed_ms << " ms (dead_after 150 ms)");
  BOOST_TEST(noticed_ms >= 100);  // not before about misses x interval
  BOOST_TEST(subscriber->ready());
  BOOST_TEST(LatestVersion(*subscriber) == 1u);
  BOOST_TEST(subscriber->stats().silent_episodes == 1u);
  {
    std::lock_guard<std::mutex> lock(log_mutex);
    bool reported = false;
    for (const auto& line : log) reported |= line.find("silent") != std::string::npos;
    BOOST_TEST(reported);
  }

  // A new coordinator (next epoch) comes up on the same endpoints: the subscriber re-snapshots.
  auto options = FastPublisherOptions(2);
  options.publish_endpoint = publish_endpoint;
  options.snapshot_endpoint = snapshot_endpoint;
  // The old listening socket closes asynchronously: retry the bind for a moment.
  Result<std::unique_ptr<WeightPublisher>> restarted = Status::Unavailable("not started");
  BOOST_REQUIRE(WaitUntil(
      [&] {
        restarted = WeightPublisher::Start(context, options);
        return restarted.ok();
      },
      milliseconds(3000)));
  publisher = std::move(restarted).value();
  BOOST_REQUIRE(publisher->Publish(MakeAdapter(2, 2)).ok());
  BOOST_TEST(WaitUntil([&] { return LatestVersion(*subscriber) == 2; }, milliseconds(5000)));
  BOOST_TEST(WaitUntil([&] { return subscriber->state() == PublisherState::kLive; },
                       milliseconds(2000)));
  BOOST_TEST(subscriber->latest()->epoch == 2u);
}

BOOST_AUTO_TEST_CASE(PublisherRefusesCorruptOrNonIncreasingVersions) {
  zmq::context_t context;
  auto publisher = StartPublisher(context, FastPublisherOptions(2));
  BOOST_TEST(!publisher->Publish(MakeAdapter(5, 1)).ok());  // epoch older than the publisher's
  auto first = publisher->Publish(MakeAdapter(5, 2));
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(*first == 1u);
  auto same = publisher->Publish(MakeAdapter(5, 2));
  BOOST_CHECK(same.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(!publisher->Publish(MakeAdapter(4, 2)).ok());
  AdapterVersion corrupt = MakeAdapter(6, 2);
  corrupt.weights[0] += 1.0f;
  BOOST_CHECK(publisher->Publish(corrupt).status().code() == StatusCode::kCorruption);
  auto next = publisher->Publish(MakeAdapter(6, 2));
  BOOST_REQUIRE(next.ok());
  BOOST_TEST(*next == 2u);  // refused versions take no sequence number
  publisher->Stop();
  BOOST_TEST(!publisher->Publish(MakeAdapter(7, 2)).ok());
}

BOOST_AUTO_TEST_CASE(TwoHundredSubscribersConvergeToLatestOfFiftyRapidVersions) {
  constexpr int kSubscribers = 200;
  constexpr uint64_t kVersions = 50;
  zmq::context_t context;
  context.set(zmq::ctxopt::max_sockets, 4096);
  auto pub_options = FastPublisherOptions();
  pub_options.heartbeat_interval = milliseconds(100);
  auto publisher = StartPublisher(context, pub_options);

  std::atomic<int> out_of_order{0};
  std::vector<std::unique_ptr<std::atomic<uint64_t>>> last_applied;
  std::vector<std::unique_ptr<WeightSubscriber>> subscribers;
  const auto started = std::chrono::steady_clock::now();
  uint64_t published = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    last_applied.push_back(std::make_unique<std::atomic<uint64_t>>(0));
    auto options = FastSubscriberOptions(publisher->publish_endpoint(),
                                         publisher->snapshot_endpoint(),
                                         "replica-" + std::to_string(i));
    options.heartbeat_interval = milliseconds(100);
    options.heartbeat_misses = 50;  // 2 shared cores: scheduling delays are not silence
    options.snapshot_timeout = milliseconds(1000);
    std::atomic<uint64_t>* last = last_applied.back().get();
    options.on_apply = [last, &out_of_order](const AdapterVersion& adapter) {
      if (adapter.version <= last->exchange(adapter.version)) out_of_order.fetch_add(1);
    };
    subscribers.push_back(StartSubscriber(context, options));
    // The first 10 versions go out while subscribers are still joining (late ones start from
    // a snapshot) ...
    if (i % 20 == 19) BOOST_REQUIRE(publisher->Publish(MakeAdapter(++published, 1)).ok());
  }
  // ... the other 40 in a burst once every subscriber is on the bus.
  BOOST_REQUIRE(WaitUntil(
      [&] {
        for (const auto& subscriber : subscribers) {
          if (subscriber->stats().heartbeats_received == 0) return false;
        }
        return true;
      },
      milliseconds(20000)));
  while (published < kVersions) {
    BOOST_REQUIRE(publisher->Publish(MakeAdapter(++published, 1)).ok());
  }
  BOOST_REQUIRE(publisher->last_sequence() == kVersions);

  const bool converged = WaitUntil(
      [&] {
        for (const auto& subscriber : subscribers) {
          if (LatestVersion(*subscriber) != kVersions) return false;
        }
        return true;
      },
      milliseconds(30000));
  const auto elapsed_ms = std::chrono::duration_cast<milliseconds>(
                              std::chrono::steady_clock::now() - started).count();
  int behind = 0;
  uint64_t snapshots = 0, gaps = 0, applied = 0;
  for (const auto& subscriber : subscribers) {
    behind += LatestVersion(*subscriber) != kVersions;
    const auto stats = subscriber->stats();
    snapshots += stats.snapshots_applied;
    gaps += stats.sequence_gaps;
    applied += stats.applied;
    BOOST_TEST(stats.dropped_total() - stats.dropped_for(DropReason::kDuplicate) -
                   stats.dropped_for(DropReason::kStaleVersion) == 0u);
  }
  BOOST_TEST_MESSAGE(kSubscribers << " subscribers, " << kVersions << " versions: converged in "
                                  << elapsed_ms << " ms; applied " << applied
                                  << ", from snapshots " << snapshots << ", gaps " << gaps);
  BOOST_TEST(converged);
  BOOST_TEST(behind == 0);
  BOOST_TEST(out_of_order.load() == 0);

  for (auto& subscriber : subscribers) subscriber->RequestStop();
  subscribers.clear();
}
