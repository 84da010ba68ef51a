#define BOOST_TEST_MODULE core_validation_gate
#include <boost/test/unit_test.hpp>

#include "core/validation_gate.h"

using reflex::GateInputs;
using reflex::HealPolicy;
using reflex::ValidateCandidate;

namespace {
GateInputs Plausible() {
  GateInputs in;
  in.candidate_positive_rate = 0.16;
  in.expected_positive_rate = 0.15;
  return in;
}
}  // namespace

BOOST_AUTO_TEST_CASE(AcceptsAPlausibleCandidate) {
  auto v = ValidateCandidate(Plausible(), HealPolicy{});
  BOOST_TEST(v.accept);
  BOOST_TEST(v.reason.rfind("accepted", 0) == 0);
}

BOOST_AUTO_TEST_CASE(NonFiniteCandidateIsRejected) {
  GateInputs in = Plausible();
  in.finite = false;
  auto v = ValidateCandidate(in, HealPolicy{});
  BOOST_TEST(!v.accept);
  BOOST_TEST(v.reason.find("non-finite") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(CollapseToOneClassIsRejectedWithoutLabels) {
  GateInputs in = Plausible();
  in.candidate_positive_rate = 0.45;  // within the absolute cap, far from the expected rate
  auto v = ValidateCandidate(in, HealPolicy{});
  BOOST_TEST(!v.accept);
  BOOST_TEST(v.reason.find("from the expected") != std::string::npos);
  in.candidate_positive_rate = 0.0;
  BOOST_TEST(!ValidateCandidate(in, HealPolicy{}).accept);
}

BOOST_AUTO_TEST_CASE(RuleDrivenFlaggingAboveTheCapIsRejected) {
  GateInputs in = Plausible();
  in.candidate_positive_rate = 0.76;  // what trusting V14 < -1.5 under the seed drift does
  auto v = ValidateCandidate(in, HealPolicy{});
  BOOST_TEST(!v.accept);
  BOOST_TEST(v.reason.find("outside") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(LabelsRaiseTheCapToTheirPrior) {
  GateInputs in = Plausible();
  in.labelled = true;
  in.labelled_prior = 0.42;
  in.candidate_positive_rate = 0.55;
  BOOST_TEST(ValidateCandidate(in, HealPolicy{}).accept);
}

BOOST_AUTO_TEST_CASE(WorseHeldOutLossMomentsOrRuleAgreementAreRejected) {
  GateInputs in = Plausible();
  in.labelled = true;
  in.labelled_prior = 0.15;
  in.candidate_label_loss = 0.6;
  in.current_label_loss = 0.5;
  BOOST_TEST(ValidateCandidate(in, HealPolicy{}).reason.find("held-out labelled loss") != std::string::npos);
  in = Plausible();
  in.candidate_moment_distance = 2.0;
  in.current_moment_distance = 1.0;
  BOOST_TEST(ValidateCandidate(in, HealPolicy{}).reason.find("moment distance") != std::string::npos);
  in = Plausible();
  in.candidate_rule_agreement = 0.5;
  in.current_rule_agreement = 0.9;
  BOOST_TEST(ValidateCandidate(in, HealPolicy{}).reason.find("rule agreement") != std::string::npos);
}
