#define BOOST_TEST_MODULE core_byte_coding
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "core/byte_coding.h"

using namespace reflex;

BOOST_AUTO_TEST_CASE(NumbersAreWrittenLittleEndian) {
  std::string bytes;
  AppendU32(&bytes, 0x01020304u);
  AppendU64(&bytes, 0x0102030405060708ull);
  BOOST_TEST(bytes == std::string("\x04\x03\x02\x01\x08\x07\x06\x05\x04\x03\x02\x01", 12));
}

BOOST_AUTO_TEST_CASE(EveryFieldReadsBackAsWritten) {
  std::string bytes;
  AppendU32(&bytes, 7);
  AppendU64(&bytes, ~0ull);
  AppendI64(&bytes, -42);
  AppendF32(&bytes, -1.5f);
  AppendF64(&bytes, 0.1);
  AppendLengthPrefixed(&bytes, "heal: fidi z=2.31");
  AppendF32(&bytes, 2.0f);
  AppendF32(&bytes, INFINITY);

  ByteReader reader(bytes.data(), bytes.size());
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  double f64 = 0;
  std::string text;
  float pair[2] = {0, 0};
  BOOST_TEST(reader.ReadU32(&u32));
  BOOST_TEST(reader.ReadU64(&u64));
  BOOST_TEST(reader.ReadI64(&i64));
  BOOST_TEST(reader.ReadF32(&f32));
  BOOST_TEST(reader.ReadF64(&f64));
  BOOST_TEST(reader.ReadLengthPrefixed(&text));
  BOOST_TEST(reader.ReadF32Array(2, pair));
  BOOST_TEST(u32 == 7u);
  BOOST_TEST(u64 == ~0ull);
  BOOST_TEST(i64 == -42);
  BOOST_TEST(f32 == -1.5f);
  BOOST_TEST(f64 == 0.1);
  BOOST_TEST(text == "heal: fidi z=2.31");
  BOOST_TEST(pair[0] == 2.0f);
  BOOST_TEST(std::isinf(pair[1]));
  BOOST_TEST(reader.remaining() == 0u);
  BOOST_TEST(!reader.failed());
}

BOOST_AUTO_TEST_CASE(ReadingPastTheEndFailsAndStaysFailed) {
  std::string bytes;
  AppendLengthPrefixed(&bytes, "abcdef");
  bytes.resize(bytes.size() - 1);  // the string is cut short
  ByteReader reader(bytes.data(), bytes.size());
  std::string text;
  BOOST_TEST(!reader.ReadLengthPrefixed(&text));
  BOOST_TEST(reader.failed());
  uint32_t u32 = 0;
  BOOST_TEST(!reader.ReadU32(&u32));

  float values[4];
  ByteReader short_reader(bytes.data(), 7);
  BOOST_TEST(!short_reader.ReadF32Array(2, values));
}
