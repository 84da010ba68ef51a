#define BOOST_TEST_MODULE core_operator_state
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/operator_state.h"

using namespace reflex;

namespace {

OperatorState Sample() {
  OperatorState s;
  s.mode = "frozen";
  s.mode_before_freeze = "manual";
  s.pinned = 3;
  s.next_job_id = 12;
  s.policy = {{"min_rows", "50"}, {"lr", "0.01"}};
  s.heal = InterruptedHeal{11, 2, 1700000000123, "fidi z=3.1 feature=f0\nrows=500", "healer-2"};
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(OperatorStateRoundTripsWithNewlinesFlattened) {
  const OperatorState s = Sample();
  auto back = DecodeOperatorState(EncodeOperatorState(s), "OPERATOR");
  BOOST_TEST_REQUIRE(back.ok(), back.status().ToString());
  OperatorState expected = s;
  expected.heal->trigger = "fidi z=3.1 feature=f0 rows=500";
  BOOST_TEST((*back == expected));
  auto empty = DecodeOperatorState(EncodeOperatorState(OperatorState{}), "OPERATOR");
  BOOST_TEST_REQUIRE(empty.ok());
  BOOST_TEST((*empty == OperatorState{}));
}

BOOST_AUTO_TEST_CASE(DamagedOperatorStateIsRefusedNamingTheFileAndWhy) {
  std::string bytes = EncodeOperatorState(Sample());
  std::string flipped = bytes;
  flipped[bytes.find("pinned=3") + 7] = '4';
  auto a = DecodeOperatorState(flipped, "reg/OPERATOR");
  BOOST_TEST(a.status().message().find("reg/OPERATOR: checksum mismatch") != std::string::npos, a.status().message());
  auto b = DecodeOperatorState(bytes.substr(0, bytes.size() / 2), "reg/OPERATOR");
  BOOST_TEST(!b.ok());
  auto c = DecodeOperatorState("hello", "reg/OPERATOR");
  BOOST_TEST(c.status().message().find("not an operator state file") != std::string::npos, c.status().message());
}
