// Which class rules a multi-class heal trusts: labels decide when a rule fires on enough
// labelled rows; otherwise its firing rate must stay near its clean rate.
#define BOOST_TEST_MODULE core_class_rule_trust
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/class_rule_trust.h"
#include "core/rules.h"

using reflex::ClassRuleTrust;
using reflex::Result;
using reflex::RuleSet;

namespace {

RuleSet Rules() {
  Result<RuleSet> rules = RuleSet::Parse(
      "rule legs: A > 0.5 => class Trouser\n"
      "rule boot: B > 0.5 => class Boot\n",
      {"A", "B"}, "<rules>", {"Top", "Trouser", "Boot"});
  BOOST_REQUIRE_MESSAGE(rules.ok(), rules.status().ToString());
  return *rules;
}

}  // namespace

BOOST_AUTO_TEST_CASE(LabelsDecideWhenARuleFiresOnEnoughLabelledRows) {
  RuleSet rules = Rules();
  // 10 rows where both rules fire; labels say Trouser on 8 of them, Boot on 2.
  std::vector<float> rows;
  std::vector<int8_t> labels;
  for (int i = 0; i < 10; ++i) {
    rows.insert(rows.end(), {1.0f, 1.0f});
    labels.push_back(i < 8 ? 1 : 2);
  }
  auto trust = reflex::TrustClassRules(rules, rows.data(), 10, labels.data(), {0.0, 0.0}, 0.1);
  BOOST_REQUIRE(trust.ok());
  BOOST_TEST(trust->trusted == (std::vector<bool>{true, false}));
  BOOST_TEST(trust->trusted_rules == 1);
  BOOST_TEST(trust->distrusted_rules == 1);
  // Only the trusted rule votes, so every row gets Trouser.
  BOOST_TEST(trust->weak_rows == 10u);
  BOOST_TEST(trust->labels == std::vector<int8_t>(10, 1));
}

BOOST_AUTO_TEST_CASE(WithoutLabelsARuleIsTrustedWhileItFiresAsOftenAsOnCleanRows) {
  RuleSet rules = Rules();
  // legs fires on 3 of 10 rows (clean rate 0.3: trusted); boot on all 10 (clean 0.2: not).
  std::vector<float> rows;
  for (int i = 0; i < 10; ++i) rows.insert(rows.end(), {i < 3 ? 1.0f : 0.0f, 1.0f});
  auto trust = reflex::TrustClassRules(rules, rows.data(), 10, nullptr, {0.3, 0.2}, 0.15);
  BOOST_REQUIRE(trust.ok());
  BOOST_TEST(trust->trusted == (std::vector<bool>{true, false}));
  BOOST_TEST(trust->weak_rows == 3u);
  // A rule without a clean firing rate is not trusted.
  auto unknown = reflex::TrustClassRules(rules, rows.data(), 10, nullptr, {0.3}, 0.15);
  BOOST_REQUIRE(unknown.ok());
  BOOST_TEST(unknown->trusted == (std::vector<bool>{true, false}));
}

BOOST_AUTO_TEST_CASE(BinaryRuleSetsAreRefused) {
  Result<RuleSet> binary = RuleSet::Parse("rule r: A > 0 => positive", {"A"});
  BOOST_REQUIRE(binary.ok());
  const float row[1] = {1.0f};
  auto trust = reflex::TrustClassRules(*binary, row, 1, nullptr, {0.5}, 0.1);
  BOOST_TEST(!trust.ok());
  BOOST_TEST(trust.status().message().find("binary rule set") != std::string::npos);
}
