#define BOOST_TEST_MODULE core_status
#include <boost/test/unit_test.hpp>

#include "core/status.h"

using reflex::Result;
using reflex::Status;
using reflex::StatusCode;

BOOST_AUTO_TEST_CASE(ErrorStatusCarriesCodeAndMessage) {
  Status s = Status::InvalidArgument("rules.txt:3:4: expected '=>'");
  BOOST_TEST(!s.ok());
  BOOST_CHECK(s.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(s.ToString() == "InvalidArgument: rules.txt:3:4: expected '=>'");
  BOOST_TEST(s.WithContext("loading rules").message() == "loading rules: rules.txt:3:4: expected '=>'");
  BOOST_TEST(Status::Ok().WithContext("x").ok());
}

BOOST_AUTO_TEST_CASE(ResultHoldsValueOrError) {
  Result<int> good(7);
  BOOST_TEST(good.ok());
  BOOST_TEST(*good == 7);
  Result<int> bad(Status::NotFound("version 9 is not in the registry"));
  BOOST_TEST(!bad.ok());
  BOOST_CHECK(bad.status().code() == StatusCode::kNotFound);
}
