#define BOOST_TEST_MODULE core_checksum
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/checksum.h"

using reflex::FormatChecksum;
using reflex::Fnv1a64;

BOOST_AUTO_TEST_CASE(MatchesPublishedFnv1a64Vectors) {
  BOOST_TEST(Fnv1a64("", 0) == 0xcbf29ce484222325ull);
  BOOST_TEST(Fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
  BOOST_TEST(Fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
}

BOOST_AUTO_TEST_CASE(ChainingPiecesEqualsHashingTheWhole) {
  const std::string whole = "reflexive layer weights";
  const uint64_t first = Fnv1a64(whole.data(), 7);
  const uint64_t chained = Fnv1a64(whole.data() + 7, whole.size() - 7, first);
  BOOST_TEST(chained == Fnv1a64(whole.data(), whole.size()));
}

BOOST_AUTO_TEST_CASE(DifferentBytesGiveDifferentHashes) {
  BOOST_TEST(Fnv1a64("ab", 2) != Fnv1a64("ba", 2));
  BOOST_TEST(Fnv1a64("a", 1) != Fnv1a64("a\0", 2));
}

BOOST_AUTO_TEST_CASE(FormatsChecksumAsSixteenHexDigits) {
  BOOST_TEST(FormatChecksum(0xaf63dc4c8601ec8cull) == "0xaf63dc4c8601ec8c");
  BOOST_TEST(FormatChecksum(1) == "0x0000000000000001");
}
