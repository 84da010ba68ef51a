#define BOOST_TEST_MODULE transport_version_fence
#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>

#include "transport/version_fence.h"

using namespace reflex;
using namespace reflex::transport;

namespace {

AdapterVersion Sealed(uint64_t version, uint64_t epoch, AdapterDims dims = {4, 3}) {
  AdapterVersion adapter;
  adapter.version = version;
  adapter.epoch = epoch;
  adapter.dims = dims;
  adapter.weights.assign(AdapterWeightCount(dims), 0.25f);
  adapter.Seal();
  return adapter;
}

std::optional<DropReason> CheckThenApply(VersionFence& fence, const AdapterVersion& adapter) {
  std::string why;
  auto reason = fence.Check(adapter, &why);
  if (!reason) fence.Applied(adapter);
  return reason;
}

}  // namespace

BOOST_AUTO_TEST_CASE(VersionsMoveForwardByEpochThenVersion) {
  VersionFence fence;
  BOOST_TEST(!CheckThenApply(fence, Sealed(3, 1)).has_value());
  BOOST_CHECK(CheckThenApply(fence, Sealed(3, 1)) == DropReason::kDuplicate);
  BOOST_CHECK(CheckThenApply(fence, Sealed(2, 1)) == DropReason::kStaleVersion);
  BOOST_CHECK(CheckThenApply(fence, Sealed(9, 0)) == DropReason::kStaleEpoch);
  BOOST_TEST(!CheckThenApply(fence, Sealed(4, 1)).has_value());
  BOOST_TEST(!CheckThenApply(fence, Sealed(1, 2)).has_value());  // a new epoch wins
  BOOST_CHECK(CheckThenApply(fence, Sealed(5, 1)) == DropReason::kStaleEpoch);
  BOOST_TEST(fence.applied_version() == 1u);
  BOOST_TEST(fence.applied_epoch() == 2u);
}

BOOST_AUTO_TEST_CASE(AHeartbeatEpochFencesOlderCoordinatorsBeforeTheirVersionsArrive) {
  VersionFence fence;
  BOOST_TEST(fence.ObserveEpoch(3));
  BOOST_TEST(!fence.ObserveEpoch(2));
  BOOST_CHECK(CheckThenApply(fence, Sealed(7, 2)) == DropReason::kStaleEpoch);
  BOOST_TEST(fence.IsNewer(3, 0));
  BOOST_TEST(!fence.IsNewer(2, 100));
  BOOST_TEST(!CheckThenApply(fence, Sealed(1, 3)).has_value());
  BOOST_TEST(!fence.IsNewer(3, 1));
}

BOOST_AUTO_TEST_CASE(IntegrityIsCheckedBeforeOrder) {
  VersionFence fence(AdapterDims{4, 3});
  std::string why;
  AdapterVersion nan = Sealed(1, 1);
  nan.weights[2] = std::numeric_limits<float>::quiet_NaN();
  nan.Seal();
  BOOST_CHECK(fence.Check(nan, &why) == DropReason::kNonFinite);
  BOOST_TEST(why.find("weight 2 is NaN") != std::string::npos);
  AdapterVersion garbled = Sealed(1, 1);
  garbled.checksum ^= 1;
  BOOST_CHECK(fence.Check(garbled, &why) == DropReason::kCorrupt);
  BOOST_CHECK(fence.Check(Sealed(1, 1, {5, 3}), &why) == DropReason::kWrongDims);
  BOOST_TEST(why.find("serves 4x3") != std::string::npos);
  AdapterVersion torn = Sealed(1, 1);
  torn.weights.pop_back();
  BOOST_CHECK(fence.Check(torn, &why) == DropReason::kWrongDims);
  BOOST_TEST(!fence.Check(Sealed(1, 1), &why).has_value());
  BOOST_TEST(std::string(DropReasonName(DropReason::kStaleEpoch)) == "stale_epoch");
}
