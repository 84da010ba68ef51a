#define BOOST_TEST_MODULE core_heal_policy
#include <boost/test/unit_test.hpp>

#include "core/heal_policy.h"

using reflex::HealPolicy;

BOOST_AUTO_TEST_CASE(DefaultsMatchTheDesign) {
  HealPolicy p;
  BOOST_TEST(p.steps == 5);
  BOOST_TEST(p.lr == 0.003);
  BOOST_TEST(p.rollback_f1_drop == 0.08);
  BOOST_TEST(p.label_accuracy_drop == 0.10);
  BOOST_TEST(p.ToMap().at("operating_point") == "expected_accuracy_at_f1");
  BOOST_TEST(p.Validate().ok());
}

BOOST_AUTO_TEST_CASE(SetAcceptsValidValuesAndShowsThem) {
  HealPolicy p;
  BOOST_TEST(p.Set("lr", "0.01").ok());
  BOOST_TEST(p.lr == 0.01);
  BOOST_TEST(p.Set("mode", "frozen").ok());
  BOOST_TEST(p.ToMap().at("mode") == "frozen");
  BOOST_TEST(p.Set("steps", "12").ok());
  BOOST_TEST(p.ToMap().at("steps") == "12");
}

BOOST_AUTO_TEST_CASE(SetRefusesUnknownKeysAndBadValuesWithTheReason) {
  HealPolicy p;
  reflex::Status s = p.Set("learning_rate", "0.1");
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("unknown policy key 'learning_rate'") != std::string::npos);
  s = p.Set("lr", "fast");
  BOOST_TEST(s.message().find("'fast' is not a number") != std::string::npos);
  s = p.Set("label_accuracy_drop", "1.5");
  BOOST_TEST(s.message().find("out of range") != std::string::npos);
  s = p.Set("steps", "2.5");
  BOOST_TEST(s.message().find("whole number") != std::string::npos);
  s = p.Set("mode", "sometimes");
  BOOST_TEST(s.message().find("auto, manual, frozen") != std::string::npos);
  BOOST_TEST(p.lr == 0.003);  // nothing changed by refused sets
}

BOOST_AUTO_TEST_CASE(CrossFieldConstraintsAreChecked) {
  HealPolicy p;
  BOOST_TEST(p.Set("window_rows", "400").ok());
  reflex::Status s = p.Set("min_rows", "450");
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("exceeds window_rows") != std::string::npos);
  BOOST_TEST(p.min_rows == 300);
}

BOOST_AUTO_TEST_CASE(OperatingPointTakesOnlyItsNamedRules) {
  HealPolicy p;
  BOOST_TEST(p.Set("operating_point", "accuracy_at_f1").ok());
  BOOST_TEST((p.operating_point == reflex::OperatingPoint::kAccuracyAtF1));
  BOOST_TEST(p.ToMap().at("operating_point") == "accuracy_at_f1");
  reflex::Status s = p.Set("operating_point", "max_f1");
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.message().find("'max_f1' is not one of none, accuracy_at_f1") != std::string::npos);
  BOOST_TEST((p.operating_point == reflex::OperatingPoint::kAccuracyAtF1));  // unchanged by the refused set
  BOOST_TEST(p.Set("operating_point", "none").ok());
  BOOST_TEST((p.operating_point == reflex::OperatingPoint::kNone));
}
