#define BOOST_TEST_MODULE transport_weight_bus_fencing
#include <boost/test/unit_test.hpp>

// What a subscriber refuses, shown with frames injected through a raw PUB socket the test
// controls (FakeBus): duplicates, reordering, fenced epochs, corruption.

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "transport/weight_subscriber.h"
#include "weight_bus_test_support.h"

using namespace reflex;
using namespace reflex::transport;
using namespace reflex::transport::testing;
using std::chrono::milliseconds;
using Applied = std::vector<std::pair<uint64_t, uint64_t>>;  // (version, epoch)

namespace {

struct Fixture {
  Fixture() : bus(context) {}
  std::unique_ptr<WeightSubscriber> Start() {
    auto options = FastSubscriberOptions(bus.publish_endpoint(), bus.snapshot_endpoint());
    options.heartbeat_misses = 100;  // heartbeats here are sent by hand
    options.on_apply = applied.Callback();
    options.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex);
      log.push_back(line);
    };
    auto subscriber = WeightSubscriber::Start(context, options);
    BOOST_REQUIRE_MESSAGE(subscriber.ok(), subscriber.status().ToString());
    return std::move(subscriber).value();
  }
  bool Logged(const std::string& part) {
    std::lock_guard<std::mutex> lock(log_mutex);
    for (const auto& line : log) {
      if (line.find(part) != std::string::npos) return true;
    }
    return false;
  }

  zmq::context_t context;
  FakeBus bus;
  AppliedLog applied;
  std::mutex log_mutex;
  std::vector<std::string> log;
};

// Waits until the subscriber has taken `count` adapter messages off the bus.
bool WaitForUpdates(const WeightSubscriber& subscriber, uint64_t count) {
  return WaitUntil([&] { return subscriber.stats().updates_received >= count; },
                   milliseconds(5000));
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(DuplicatedReorderedAndStaleEpochUpdatesAreIgnored, Fixture) {
  auto subscriber = Start();
  BOOST_REQUIRE(bus.WaitForSubscription(*subscriber, 1));

  bus.SendUpdate(1, MakeAdapter(1, 1));  // applied
  bus.SendUpdate(1, MakeAdapter(1, 1));  // duplicate
  bus.SendUpdate(3, MakeAdapter(3, 1));  // applied; sequence gap 1 -> 3
  bus.SendUpdate(2, MakeAdapter(2, 1));  // late (reordered): older than 3
  bus.SendUpdate(3, MakeAdapter(3, 1));  // duplicate
  bus.SendUpdate(4, MakeAdapter(9, 0));  // older epoch: fenced even with a higher version
  bus.SendUpdate(5, MakeAdapter(2, 2));  // newer epoch wins even with a lower version number
  bus.SendUpdate(6, MakeAdapter(8, 1));  // epoch 1 is now fenced
  BOOST_REQUIRE(WaitForUpdates(*subscriber, 8));

  const Applied expected = {{1, 1}, {3, 1}, {2, 2}};
  BOOST_CHECK(applied.Get() == expected);
  BOOST_TEST(subscriber->latest()->version == 2u);
  BOOST_TEST(subscriber->latest()->epoch == 2u);
  auto stats = subscriber->stats();
  BOOST_TEST(stats.applied == 3u);
  BOOST_TEST(stats.dropped_for(DropReason::kDuplicate) == 2u);
  BOOST_TEST(stats.dropped_for(DropReason::kStaleVersion) == 1u);
  BOOST_TEST(stats.dropped_for(DropReason::kStaleEpoch) == 2u);
  // 1 -> 3, and 3 -> 5: the fenced update at sequence 4 is not part of the stream it follows.
  BOOST_TEST(stats.sequence_gaps == 2u);
  // Asked at start (this fake never answers), and again on the gap once the first times out.
  BOOST_TEST(WaitUntil([&] { return subscriber->stats().snapshots_requested >= 2; },
                       milliseconds(3000)));
  BOOST_TEST(Logged("stale_epoch"));

  // A heartbeat of a fenced epoch is ignored too; one of the current epoch is not.
  bus.SendHeartbeat(1, 6, 8);
  bus.SendHeartbeat(2, 6, 2);
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->stats().heartbeats_received >= stats.heartbeats_received + 2; },
                          milliseconds(5000)));
  BOOST_TEST(subscriber->stats().stale_heartbeats == 1u);
  // Once epoch 3 is announced, versions of epoch 2 are fenced before any epoch-3 version exists.
  bus.SendHeartbeat(3, 6, 2);
  bus.SendUpdate(7, MakeAdapter(3, 2));
  BOOST_REQUIRE(WaitForUpdates(*subscriber, 9));
  BOOST_TEST(subscriber->latest()->version == 2u);
  BOOST_TEST(subscriber->stats().dropped_for(DropReason::kStaleEpoch) == 3u);
}

BOOST_FIXTURE_TEST_CASE(CorruptedUpdateIsRefusedAndPreviousVersionKeepsServing, Fixture) {
  auto subscriber = Start();
  BOOST_REQUIRE(bus.WaitForSubscription(*subscriber, 1));
  bus.SendUpdate(1, MakeAdapter(1, 1));
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->ready(); }, milliseconds(5000)));

  AdapterVersion bad_checksum = MakeAdapter(2, 1);
  bad_checksum.weights[3] += 0.5f;  // garbled after sealing
  bus.SendUpdate(2, bad_checksum);
  AdapterVersion nan_weight = MakeAdapter(3, 1);
  nan_weight.weights[5] = std::numeric_limits<float>::quiet_NaN();
  nan_weight.Seal();  // even correctly sealed, a NaN is never served
  bus.SendUpdate(3, nan_weight);
  AdapterVersion infinite_weight = MakeAdapter(4, 1);
  infinite_weight.weights[0] = std::numeric_limits<float>::infinity();
  infinite_weight.Seal();
  bus.SendUpdate(4, infinite_weight);
  bus.SendUpdate(5, MakeAdapter(5, 1, AdapterDims{5, 3}));  // intact, but not this model's dims
  AdapterVersion torn = MakeAdapter(6, 1);
  torn.weights.pop_back();  // weight count does not fit the dims
  bus.SendUpdate(6, torn);
  bus.SendRaw(kAdapterTopic, "\xc1 definitely not msgpack");
  bus.SendRaw("adapterX", wire::Encode(wire::AdapterUpdate{7, MakeAdapter(7, 1)}));  // wrong topic
  // Wait for the malformed ones too: updates_received counts only decoded adapter messages.
  BOOST_REQUIRE(WaitUntil([&] { return subscriber->stats().dropped_total() >= 7; },
                          milliseconds(5000)));

  BOOST_TEST(subscriber->latest()->version == 1u);
  BOOST_TEST(subscriber->latest()->Verify().ok());
  const auto stats = subscriber->stats();
  BOOST_TEST(stats.applied == 1u);
  BOOST_TEST(stats.dropped_for(DropReason::kCorrupt) == 1u);
  BOOST_TEST(stats.dropped_for(DropReason::kNonFinite) == 2u);
  BOOST_TEST(stats.dropped_for(DropReason::kWrongDims) == 2u);
  BOOST_TEST(stats.dropped_for(DropReason::kMalformed) == 2u);
  BOOST_TEST(Logged("corrupt"));
  BOOST_TEST(Logged("non_finite"));
  BOOST_TEST(Logged("wrong_dims"));

  // The next intact version is applied as usual.
  bus.SendUpdate(8, MakeAdapter(8, 1));
  BOOST_TEST(WaitUntil([&] { return subscriber->latest()->version == 8u; }, milliseconds(5000)));
}

BOOST_FIXTURE_TEST_CASE(ARefusedUpdateWithAHugeSequenceDoesNotBlindGapDetection, Fixture) {
  auto subscriber = Start();
  BOOST_REQUIRE(bus.WaitForSubscription(*subscriber, 1));
  bus.SendUpdate(1, MakeAdapter(1, 1));
  AdapterVersion forged = MakeAdapter(2, 1);
  forged.weights[0] += 1.0f;  // checksum no longer matches
  bus.SendUpdate(1000000, forged);
  bus.SendUpdate(3, MakeAdapter(3, 1));  // sequence 2 was lost: a gap after 1
  BOOST_REQUIRE(WaitForUpdates(*subscriber, 3));
  BOOST_TEST(subscriber->latest()->version == 3u);
  const auto stats = subscriber->stats();
  BOOST_TEST(stats.dropped_for(DropReason::kCorrupt) == 1u);
  BOOST_TEST(stats.sequence_gaps == 1u);
  BOOST_TEST(Logged("got 3 after 1"));
}
