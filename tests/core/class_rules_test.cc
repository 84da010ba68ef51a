// Class rules (`=> class NAME`) of multi-class models: parsing, canonical text, conflicts with
// the model's most probable class, weak class labels, and that binary rule sets are unchanged.
#define BOOST_TEST_MODULE core_class_rules
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/rules.h"

using reflex::Result;
using reflex::RuleOutcome;
using reflex::RuleSet;
using reflex::StatusCode;

namespace {

const std::vector<std::string> kAb = {"A", "B"};
const std::vector<std::string> kClasses = {"T-shirt/top", "Trouser", "Ankle boot"};

RuleSet MustParse(const std::string& text, const std::vector<std::string>& classes = kClasses) {
  Result<RuleSet> rules = RuleSet::Parse(text, kAb, "<rules>", classes);
  BOOST_REQUIRE_MESSAGE(rules.ok(), rules.status().ToString());
  return *rules;
}

std::string ParseError(const std::string& text, const std::vector<std::string>& classes = kClasses,
                       const std::string& source = "<rules>") {
  Result<RuleSet> rules = RuleSet::Parse(text, kAb, source, classes);
  BOOST_REQUIRE_MESSAGE(!rules.ok(), "expected a parse error for: " + text);
  BOOST_CHECK(rules.status().code() == StatusCode::kInvalidArgument);
  return rules.status().message();
}

}  // namespace

BOOST_AUTO_TEST_CASE(ParsesClassRulesByBareOrQuotedName) {
  RuleSet rules = MustParse(
      "rule legs: A > 0.5 => class Trouser\n"
      "rule top: B > 0.5 and A < 0.2 => class \"T-shirt/top\"  # quoted: not an identifier\n");
  BOOST_TEST(rules.multiclass());
  BOOST_TEST(rules.class_names() == kClasses);
  BOOST_TEST(rules.size() == 2u);
  BOOST_CHECK(rules.outcome(0) == RuleOutcome::kClass);
  BOOST_TEST(rules.target_class(0) == 1);
  BOOST_TEST(rules.target_class(1) == 0);
}

BOOST_AUTO_TEST_CASE(ClassRulesPrintCanonicallyAndParseBack) {
  RuleSet rules = MustParse(
      "rule legs:A>0.5=>class Trouser\n"
      "rule boot: not (A > 1 or B > 1) => class \"Ankle boot\"\n");
  BOOST_TEST(rules.ToString(0) == "rule legs: A > 0.5 => class Trouser");
  BOOST_TEST(rules.ToString(1) == "rule boot: not (A > 1 or B > 1) => class \"Ankle boot\"");
  RuleSet again = MustParse(rules.ToText());
  BOOST_TEST(again.ToText() == rules.ToText());
}

BOOST_AUTO_TEST_CASE(ClassRuleErrorsSayWhereAndWhatWasExpected) {
  BOOST_TEST(ParseError("rule a: A > 0 => class Dress") ==
             "<rules>:1:24: unknown class 'Dress' (known: T-shirt/top, Trouser, Ankle boot)");
  BOOST_TEST(ParseError("rule a: A > 0 => class") ==
             "<rules>:1:23: expected a class name (NAME or \"NAME\") after 'class', found end of line");
  BOOST_TEST(ParseError("rule a: A > 0 => class 3") ==
             "<rules>:1:24: expected a class name (NAME or \"NAME\") after 'class', found '3'");
  BOOST_TEST(ParseError("rule a: A > 0 => class \"Ankle boot") ==
             "<rules>:1:24: expected a class name (NAME or \"NAME\") after 'class', found '\"Ankle boot'");
  BOOST_TEST(ParseError("rule a: A > 0 => Trouser") ==
             "<rules>:1:18: expected 'class NAME', found 'Trouser'");
  BOOST_TEST(ParseError("rule a: A > 0 => positive") ==
             "<rules>:1:18: expected 'class NAME', found 'positive': a multi-class model's rules name a class");
  BOOST_TEST(ParseError("rule a: A > 0 => class Trouser extra") ==
             "<rules>:1:32: expected end of line, found 'extra'");
  BOOST_TEST(ParseError("\n\nrule a: A > 0 => class \"Coat\"", kClasses, "fashion.rules") ==
             "fashion.rules:3:24: unknown class 'Coat' (known: T-shirt/top, Trouser, Ankle boot)");
}

BOOST_AUTO_TEST_CASE(BinaryRuleSetsRejectClassRules) {
  Result<RuleSet> rules = RuleSet::Parse("rule a: A > 0 => class Trouser", kAb, "fraud.rules");
  BOOST_REQUIRE(!rules.ok());
  BOOST_TEST(rules.status().message() ==
             "fraud.rules:1:18: expected 'positive' or 'negative', found 'class': class rules need a "
             "multi-class model, and no class names were given");
  Result<RuleSet> binary = RuleSet::Parse("rule a: A > 0 => positive", kAb);
  BOOST_REQUIRE(binary.ok());
  BOOST_TEST(!binary->multiclass());
  BOOST_TEST(binary->target_class(0) == -1);
}

BOOST_AUTO_TEST_CASE(BadClassListsAreRejected) {
  BOOST_TEST(ParseError("", {"Bag", "Bag"}) ==
             "<rules>: the model's classes: class name 'Bag' is given twice (classes 0 and 1)");
  BOOST_TEST(ParseError("", {"Bag", ""}) == "<rules>: the model's classes: class 1 has an empty name");
  BOOST_TEST(ParseError("", {"say \"hi\""}) ==
             "<rules>: the model's classes: class name 'say \"hi\"' contains a quote or a line break");
}

BOOST_AUTO_TEST_CASE(ConflictIsAFiringRuleWhoseClassIsNotThePrediction) {
  RuleSet rules = MustParse(
      "rule legs: A > 0 => class Trouser\n"
      "rule boot: B > 0 => class \"Ankle boot\"\n");
  // rows: A, B
  const std::vector<float> rows = {
      1, 0,  // legs fires, model says Trouser: agrees
      1, 0,  // legs fires, model says T-shirt: conflict
      1, 1,  // both fire, model says Ankle boot: conflict for legs only
      0, 0,  // none fires
  };
  const std::vector<float> probs = {
      0.1f, 0.8f, 0.1f,  //
      0.6f, 0.3f, 0.1f,  //
      0.2f, 0.3f, 0.5f,  //
      1.0f, 0.0f, 0.0f,
  };
  RuleSet::BatchStats stats = rules.EvaluateClasses(rows.data(), 4, probs.data());
  BOOST_TEST(stats.rows == 4u);
  BOOST_TEST(stats.fired == (std::vector<uint64_t>{3, 1}));
  BOOST_TEST(stats.conflicts == (std::vector<uint64_t>{2, 0}));
  stats = rules.EvaluateClasses(rows.data(), 4, nullptr);
  BOOST_TEST(stats.fired == (std::vector<uint64_t>{3, 1}));
  BOOST_TEST(stats.conflicts == (std::vector<uint64_t>{0, 0}));
}

BOOST_AUTO_TEST_CASE(WeakClassLabelsFollowAgreeingRulesAndAbstainOnDisagreement) {
  RuleSet rules = MustParse(
      "rule legs: A > 0 => class Trouser\n"
      "rule legs2: A > 1 => class Trouser\n"
      "rule boot: B > 0 => class \"Ankle boot\"\n");
  const std::vector<float> rows = {
      1, 0,  // legs -> Trouser
      2, 0,  // legs + legs2 -> Trouser
      0, 1,  // boot -> Ankle boot
      1, 1,  // legs vs boot -> -1
      0, 0,  // none -> -1
  };
  BOOST_TEST(rules.WeakClassLabels(rows.data(), 5) == (std::vector<int8_t>{1, 1, 2, -1, -1}));
  const std::vector<bool> no_boot = {true, true, false};
  BOOST_TEST(rules.WeakClassLabels(rows.data(), 5, &no_boot) == (std::vector<int8_t>{1, 1, -1, 1, -1}));
}
