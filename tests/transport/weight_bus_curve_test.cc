#define BOOST_TEST_MODULE transport_weight_bus_curve
#include <boost/test/unit_test.hpp>

// The weight bus under CURVE: subscribers hold the coordinator's public key, so only the
// coordinator can feed them; the coordinator's ZAP allow-list decides who may listen.

#include <chrono>
#include <memory>
#include <thread>

#include "transport/curve_keys.h"
#include "transport/weight_publisher.h"
#include "transport/weight_subscriber.h"
#include "weight_bus_test_support.h"

using namespace reflex;
using namespace reflex::transport;
using namespace reflex::transport::testing;
using std::chrono::milliseconds;

namespace {

CurveKeyPair Keys() {
  auto keys = GenerateCurveKeyPair();
  BOOST_REQUIRE_MESSAGE(keys.ok(), keys.status().ToString());
  return *keys;
}

std::unique_ptr<WeightPublisher> StartCurvePublisher(zmq::context_t& context,
                                                     const CurveKeyPair& keys) {
  auto options = FastPublisherOptions();
  options.curve = CurveServerConfig{keys};
  auto publisher = WeightPublisher::Start(context, options);
  BOOST_REQUIRE_MESSAGE(publisher.ok(), publisher.status().ToString());
  return std::move(publisher).value();
}

std::unique_ptr<WeightSubscriber> StartCurveSubscriber(zmq::context_t& context,
                                                       const WeightPublisher& publisher,
                                                       const CurveKeyPair& own,
                                                       const std::string& server_public,
                                                       const std::string& id) {
  auto options =
      FastSubscriberOptions(publisher.publish_endpoint(), publisher.snapshot_endpoint(), id);
  options.curve = CurveClientConfig{own, server_public};
  auto subscriber = WeightSubscriber::Start(context, options);
  BOOST_REQUIRE_MESSAGE(subscriber.ok(), subscriber.status().ToString());
  return std::move(subscriber).value();
}

}  // namespace

BOOST_AUTO_TEST_CASE(UnauthenticatedPublisherUpdateIsRefused) {
  zmq::context_t context;
  const CurveKeyPair coordinator = Keys(), impostor = Keys(), replica = Keys(), stranger = Keys();
  auto zap = ZapAuthenticator::Start(context, {replica.public_key});
  BOOST_REQUIRE_MESSAGE(zap.ok(), zap.status().ToString());

  auto real = StartCurvePublisher(context, coordinator);
  auto fake = StartCurvePublisher(context, impostor);
  BOOST_REQUIRE(real->Publish(MakeAdapter(1, 1)).ok());
  BOOST_REQUIRE(fake->Publish(MakeAdapter(99, 7)).ok());  // newer in every way, wrong key

  // A listed replica that trusts the coordinator's key gets the coordinator's version ...
  auto trusted = StartCurveSubscriber(context, *real, replica, coordinator.public_key, "trusted");
  BOOST_REQUIRE(WaitUntil([&] { return trusted->ready(); }, milliseconds(5000)));
  BOOST_TEST(trusted->latest()->version == 1u);

  // ... the same replica pointed at the impostor hears nothing at all (handshake fails) ...
  auto fooled = StartCurveSubscriber(context, *fake, replica, coordinator.public_key, "fooled");
  // ... and a client missing from the allow-list is refused by the coordinator's ZAP handler.
  auto unlisted = StartCurveSubscriber(context, *real, stranger, coordinator.public_key, "unlisted");
  BOOST_REQUIRE(WaitUntil([&] { return (*zap)->refused() > 0; }, milliseconds(5000)));
  // Give both several heartbeat periods in which anything could have arrived.
  std::this_thread::sleep_for(milliseconds(500));
  BOOST_TEST(trusted->stats().heartbeats_received > 0u);
  BOOST_TEST(!fooled->ready());
  BOOST_TEST(fooled->stats().updates_received == 0u);
  BOOST_TEST(fooled->stats().heartbeats_received == 0u);
  BOOST_TEST(fooled->stats().snapshot_replies == 0u);
  BOOST_TEST(!unlisted->ready());
  BOOST_TEST(unlisted->stats().heartbeats_received == 0u);
  BOOST_TEST((*zap)->accepted() >= 2u);  // trusted's SUB and DEALER

  // The trusted subscriber keeps following the real coordinator.
  BOOST_REQUIRE(real->Publish(MakeAdapter(2, 1)).ok());
  BOOST_TEST(WaitUntil([&] { return trusted->latest()->version == 2u; }, milliseconds(5000)));
  trusted.reset();
  fooled.reset();
  unlisted.reset();
  real.reset();
  fake.reset();
  (*zap)->Stop();
}

BOOST_AUTO_TEST_CASE(PlainSubscriberCannotListenToACurvePublisher) {
  zmq::context_t context;
  const CurveKeyPair coordinator = Keys();
  auto real = StartCurvePublisher(context, coordinator);
  BOOST_REQUIRE(real->Publish(MakeAdapter(1, 1)).ok());
  auto options = FastSubscriberOptions(real->publish_endpoint(), real->snapshot_endpoint());
  auto plain = WeightSubscriber::Start(context, options);
  BOOST_REQUIRE(plain.ok());
  std::this_thread::sleep_for(milliseconds(400));
  BOOST_TEST(!(*plain)->ready());
  BOOST_TEST((*plain)->stats().heartbeats_received == 0u);
}
