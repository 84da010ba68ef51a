#define BOOST_TEST_MODULE core_adapter_version
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/adapter_version.h"
#include "core/byte_coding.h"
#include "core/checksum.h"

using namespace reflex;

namespace {

AdapterVersion MakeSealedAdapter() {
  AdapterVersion adapter;
  adapter.version = 3;
  adapter.parent = 2;
  adapter.epoch = 7;
  adapter.dims = {4, 3};
  adapter.weights.resize(AdapterWeightCount(adapter.dims));
  for (size_t i = 0; i < adapter.weights.size(); ++i) {
    adapter.weights[i] = 0.01f * static_cast<float>(i) - 0.2f;
  }
  adapter.Seal();
  return adapter;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(WeightCountFollowsTheFlatLayout) {
  BOOST_TEST(AdapterWeightCount({4, 3}) == 3u * 4 + 3 + 4 * 3 + 4 + 1);
  BOOST_TEST(AdapterWeightCount({64, 16}) == 2129u);
  AdapterLayout layout({4, 3});
  BOOST_TEST(layout.w1 == 0u);
  BOOST_TEST(layout.b1 == 12u);
  BOOST_TEST(layout.w2 == 15u);
  BOOST_TEST(layout.b2 == 27u);
  BOOST_TEST(layout.scale == 31u);
  BOOST_TEST(layout.total == AdapterWeightCount({4, 3}));
}

BOOST_AUTO_TEST_CASE(SealedAdapterVerifies) {
  AdapterVersion adapter = MakeSealedAdapter();
  BOOST_TEST(adapter.Verify().ok());
  AdapterVersion copy = adapter;
  BOOST_TEST(copy.Verify().ok());
  BOOST_TEST(copy.checksum == adapter.checksum);
}

BOOST_AUTO_TEST_CASE(ChecksumCoversLineageDimsAndWeightsInDocumentedOrder) {
  AdapterVersion adapter = MakeSealedAdapter();
  std::string bytes;
  AppendU64(&bytes, 3);
  AppendU64(&bytes, 2);
  AppendU64(&bytes, 7);
  AppendU32(&bytes, 4);
  AppendU32(&bytes, 3);
  for (float w : adapter.weights) AppendF32(&bytes, w);
  BOOST_TEST(adapter.checksum == Fnv1a64(bytes.data(), bytes.size()));
}

BOOST_AUTO_TEST_CASE(FlippingAnyWeightBitFailsVerify) {
  const AdapterVersion sealed = MakeSealedAdapter();
  for (size_t i = 0; i < sealed.weights.size(); ++i) {
    for (int bit = 0; bit < 32; ++bit) {
      AdapterVersion adapter = sealed;
      uint32_t bits;
      std::memcpy(&bits, &adapter.weights[i], 4);
      bits ^= 1u << bit;
      std::memcpy(&adapter.weights[i], &bits, 4);
      Status status = adapter.Verify();
      BOOST_TEST_REQUIRE(!status.ok(), "weight " << i << " bit " << bit);
      if (std::isfinite(adapter.weights[i])) {
        BOOST_CHECK(status.code() == StatusCode::kCorruption);
      } else {
        BOOST_CHECK(status.code() == StatusCode::kInvalidArgument);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ChangingLineageWithoutResealingIsAChecksumMismatch) {
  for (int field = 0; field < 3; ++field) {
    AdapterVersion adapter = MakeSealedAdapter();
    if (field == 0) adapter.version = 4;
    if (field == 1) adapter.parent = 0;
    if (field == 2) adapter.epoch = 8;
    Status status = adapter.Verify();
    BOOST_CHECK(status.code() == StatusCode::kCorruption);
    BOOST_TEST(Contains(status.message(), "checksum mismatch"));
    BOOST_TEST(Contains(status.message(), FormatChecksum(adapter.checksum)));
    BOOST_TEST(Contains(status.message(), FormatChecksum(adapter.ComputeChecksum())));
    adapter.Seal();
    BOOST_TEST(adapter.Verify().ok());
  }
}

BOOST_AUTO_TEST_CASE(WrongWeightCountNamesBothCounts) {
  AdapterVersion adapter = MakeSealedAdapter();
  adapter.weights.pop_back();
  adapter.Seal();
  Status status = adapter.Verify();
  BOOST_CHECK(status.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(status.message(), "has 31 weights"));
  BOOST_TEST(Contains(status.message(), "needs 32"));
}

BOOST_AUTO_TEST_CASE(NonFiniteWeightIsReportedWithItsIndex) {
  AdapterVersion adapter = MakeSealedAdapter();
  adapter.weights[17] = std::numeric_limits<float>::quiet_NaN();
  adapter.Seal();
  Status status = adapter.Verify();
  BOOST_CHECK(status.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(status.message(), "weight 17 is NaN"));

  adapter = MakeSealedAdapter();
  adapter.weights[31] = -std::numeric_limits<float>::infinity();
  adapter.Seal();
  status = adapter.Verify();
  BOOST_CHECK(status.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(status.message(), "weight 31 is infinite"));
}

BOOST_AUTO_TEST_CASE(ZeroDimsAreRejected) {
  AdapterVersion adapter;
  adapter.Seal();
  Status status = adapter.Verify();
  BOOST_CHECK(status.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(status.message(), "dims must be non-zero"));

  adapter.dims = {4, 0};
  adapter.weights.assign(AdapterWeightCount(adapter.dims), 0.f);
  adapter.Seal();
  BOOST_CHECK(adapter.Verify().code() == StatusCode::kInvalidArgument);
}
