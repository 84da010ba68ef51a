#define BOOST_TEST_MODULE core_rules
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/rules.h"

using reflex::Result;
using reflex::RuleOutcome;
using reflex::RuleSet;
using reflex::StatusCode;

namespace {

const std::vector<std::string> kAbcd = {"A", "B", "C", "D"};

RuleSet MustParse(const std::string& text, const std::vector<std::string>& features = kAbcd) {
  Result<RuleSet> rules = RuleSet::Parse(text, features);
  BOOST_REQUIRE_MESSAGE(rules.ok(), rules.status().ToString());
  return *rules;
}

std::string ParseError(const std::string& text, const std::vector<std::string>& features = kAbcd,
                       const std::string& source = "<rules>") {
  Result<RuleSet> rules = RuleSet::Parse(text, features, source);
  BOOST_REQUIRE_MESSAGE(!rules.ok(), "expected a parse error for: " + text);
  BOOST_CHECK(rules.status().code() == StatusCode::kInvalidArgument);
  return rules.status().message();
}

// Checks rule 0 of `text` against `expected` for every 0/1 assignment of A..D, where a
// feature is "true" when it is 1 (rules compare against 0.5).
void CheckTruthTable(const std::string& text,
                     const std::function<bool(bool, bool, bool, bool)>& expected) {
  RuleSet rules = MustParse(text);
  for (int bits = 0; bits < 16; ++bits) {
    const bool a = bits & 1, b = bits & 2, c = bits & 4, d = bits & 8;
    const float row[4] = {a ? 1.f : 0.f, b ? 1.f : 0.f, c ? 1.f : 0.f, d ? 1.f : 0.f};
    BOOST_TEST(rules.Fires(0, row) == expected(a, b, c, d),
               text << " with A=" << a << " B=" << b << " C=" << c << " D=" << d);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(ParsesTheExampleRule) {
  std::vector<std::string> features;
  for (int i = 1; i <= 28; ++i) features.push_back("V" + std::to_string(i));
  RuleSet rules = MustParse("rule v14_low: V14 < -1.5 => positive", features);
  BOOST_TEST(rules.size() == 1u);
  BOOST_TEST(!rules.empty());
  BOOST_TEST(rules.dims() == 28u);
  BOOST_TEST(rules.name(0) == "v14_low");
  BOOST_CHECK(rules.outcome(0) == RuleOutcome::kPositive);
  BOOST_TEST(rules.ToString(0) == "rule v14_low: V14 < -1.5 => positive");
  std::vector<float> row(28, 0.f);
  row[13] = -2.f;
  BOOST_TEST(rules.Fires(0, row.data()));
  row[13] = -1.5f;
  BOOST_TEST(!rules.Fires(0, row.data()));
}

BOOST_AUTO_TEST_CASE(AndBindsTighterThanOrAndNotTighterThanAnd) {
  CheckTruthTable("rule r: A > 0.5 or B > 0.5 and C > 0.5 => positive",
                  [](bool a, bool b, bool c, bool) { return a || (b && c); });
  CheckTruthTable("rule r: A > 0.5 and B > 0.5 or C > 0.5 => positive",
                  [](bool a, bool b, bool c, bool) { return (a && b) || c; });
  CheckTruthTable("rule r: not A > 0.5 and B > 0.5 => positive",
                  [](bool a, bool b, bool, bool) { return !a && b; });
  CheckTruthTable("rule r: not A > 0.5 or not B > 0.5 and C > 0.5 => positive",
                  [](bool a, bool b, bool c, bool) { return !a || (!b && c); });
  CheckTruthTable("rule r: not not A > 0.5 => positive",
                  [](bool a, bool, bool, bool) { return a; });
}

BOOST_AUTO_TEST_CASE(ParenthesesOverridePrecedence) {
  CheckTruthTable("rule r: (A > 0.5 or B > 0.5) and C > 0.5 => positive",
                  [](bool a, bool b, bool c, bool) { return (a || b) && c; });
  CheckTruthTable("rule r: not (A > 0.5 and B > 0.5) => positive",
                  [](bool a, bool b, bool, bool) { return !(a && b); });
  CheckTruthTable("rule r: not (A > 0.5 or B > 0.5) or C > 0.5 and not D > 0.5 => negative",
                  [](bool a, bool b, bool c, bool d) { return !(a || b) || (c && !d); });
  CheckTruthTable("rule r: ((A > 0.5)) and (B > 0.5 or (C > 0.5 and D > 0.5)) => negative",
                  [](bool a, bool b, bool c, bool d) { return a && (b || (c && d)); });
}

BOOST_AUTO_TEST_CASE(EveryComparisonOperatorCompares) {
  struct Case { const char* op; bool below, equal, above; };
  const Case cases[] = {{"<", true, false, false},  {"<=", true, true, false},
                        {">", false, false, true},  {">=", false, true, true},
                        {"==", false, true, false}, {"!=", true, false, true}};
  for (const Case& c : cases) {
    RuleSet rules = MustParse(std::string("rule r: B ") + c.op + " 2.5 => positive");
    const float below[4] = {0, 2.0f, 0, 0}, equal[4] = {0, 2.5f, 0, 0}, above[4] = {0, 3.f, 0, 0};
    BOOST_TEST(rules.Fires(0, below) == c.below, c.op);
    BOOST_TEST(rules.Fires(0, equal) == c.equal, c.op);
    BOOST_TEST(rules.Fires(0, above) == c.above, c.op);
  }
  // Without spaces, too (a number must not run into a word, though).
  RuleSet tight = MustParse("rule r:A<=-1e-3 and(B>=2)=>negative");
  const float row[4] = {-0.01f, 2.f, 0, 0};
  BOOST_TEST(tight.Fires(0, row));
}

BOOST_AUTO_TEST_CASE(ComparesInFloatLikeTheData) {
  RuleSet rules = MustParse("rule eq: A == 0.1 => positive\nrule lt: A < 0.7 => positive");
  const float point_one[4] = {0.1f, 0, 0, 0};
  const float point_seven[4] = {0.7f, 0, 0, 0};
  BOOST_TEST(rules.Fires(0, point_one));
  BOOST_TEST(!rules.Fires(1, point_seven));
}

BOOST_AUTO_TEST_CASE(CommentsBlankLinesAndCrlfAreIgnored) {
  RuleSet rules = MustParse(
      "# fraud rules\r\n"
      "\r\n"
      "   rule first: A > 1 => positive   # trailing comment\r\n"
      "\t\n"
      "  # indented comment\n"
      "rule second: B <= 3 => negative#no space before the comment\n");
  BOOST_TEST(rules.size() == 2u);
  BOOST_TEST(rules.name(0) == "first");
  BOOST_TEST(rules.name(1) == "second");
  BOOST_CHECK(rules.outcome(1) == RuleOutcome::kNegative);
  BOOST_TEST(MustParse("").empty());
  BOOST_TEST(MustParse("# only a comment\n\n").empty());
}

BOOST_AUTO_TEST_CASE(CanonicalTextParsesBackToTheSameRules) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"rule r:A>3.0 and(B<2e-3)=>negative", "rule r: A > 3 and B < 0.002 => negative"},
      {"rule r: (A > 0 or B > 0) and C > 0 => positive",
       "rule r: (A > 0 or B > 0) and C > 0 => positive"},
      {"rule r: A > 0 and (B > 0 and C > 0) => positive",
       "rule r: A > 0 and (B > 0 and C > 0) => positive"},
      {"rule r: (A > 0 and B > 0) and C > 0 => positive",
       "rule r: A > 0 and B > 0 and C > 0 => positive"},
      {"rule r: (A > 0 and B > 0) or not (C > 0) => positive",
       "rule r: A > 0 and B > 0 or not C > 0 => positive"},
      {"rule r: not (A > 0 or B > 0) => positive", "rule r: not (A > 0 or B > 0) => positive"},
      {"rule x.y_2: D != -0.25 => negative", "rule x.y_2: D != -0.25 => negative"},
  };
  for (const auto& [source, canonical] : cases) {
    RuleSet rules = MustParse(source);
    BOOST_TEST(rules.ToString(0) == canonical);
    RuleSet again = MustParse(rules.ToText());
    BOOST_TEST(again.ToString(0) == canonical);
  }
}

BOOST_AUTO_TEST_CASE(ErrorsSayWhereAndWhatWasExpected) {
  BOOST_TEST(ParseError("rule a: A > 0 positive") ==
             "<rules>:1:15: expected 'and', 'or' or '=>', found 'positive'");
  BOOST_TEST(ParseError("rule a: A > 0 => maybe") ==
             "<rules>:1:18: expected 'positive' or 'negative', found 'maybe'");
  BOOST_TEST(ParseError("rule a: A > 0 =>") ==
             "<rules>:1:17: expected 'positive' or 'negative', found end of line");
  BOOST_TEST(ParseError("rule a: A > 1.2.3 => positive") ==
             "<rules>:1:13: expected a finite number such as -1.5, 3 or 2e-3, found '1.2.3'");
  BOOST_TEST(ParseError("rule a: A > 1e999 => positive") ==
             "<rules>:1:13: expected a finite number such as -1.5, 3 or 2e-3, found '1e999'");
  BOOST_TEST(ParseError("rule a: A > 3abc => positive") ==
             "<rules>:1:13: expected a finite number such as -1.5, 3 or 2e-3, found '3abc'");
  BOOST_TEST(ParseError("rule a: A > abc => positive") ==
             "<rules>:1:13: expected number, found 'abc'");
  BOOST_TEST(ParseError("rule a: A >") == "<rules>:1:12: expected number, found end of line");
  BOOST_TEST(ParseError("rule a: A 3 => positive") ==
             "<rules>:1:11: expected comparison operator (<, <=, >, >=, ==, !=) after 'A', "
             "found '3'");
  BOOST_TEST(ParseError("rule a: A = 3 => positive") ==
             "<rules>:1:11: expected comparison operator (<, <=, >, >=, ==, !=) after 'A', "
             "found '='");
  BOOST_TEST(ParseError("rule a: Z > 1 => positive") ==
             "<rules>:1:9: unknown feature 'Z' (known: A, B, C, D)");
  BOOST_TEST(ParseError("rule a: (A > 0 => positive") ==
             "<rules>:1:16: expected ')', found '=>'");
  BOOST_TEST(ParseError("rule a: A > 0) => positive") ==
             "<rules>:1:14: expected 'and', 'or' or '=>', found ')'");
  BOOST_TEST(ParseError("rule a: A > 0 => positive extra") ==
             "<rules>:1:27: expected end of line, found 'extra'");
  BOOST_TEST(ParseError("rule a: => positive") ==
             "<rules>:1:9: expected a comparison (FEATURE OP NUMBER), 'not' or '(', found '=>'");
  BOOST_TEST(ParseError("rule a: () => positive") ==
             "<rules>:1:10: expected a comparison (FEATURE OP NUMBER), 'not' or '(', found ')'");
  BOOST_TEST(ParseError("rule a: A > 0 and => positive") ==
             "<rules>:1:19: expected a comparison (FEATURE OP NUMBER), 'not' or '(', found '=>'");
  BOOST_TEST(ParseError("rule a A > 0 => positive") ==
             "<rules>:1:8: expected ':' after the rule name, found 'A'");
  BOOST_TEST(ParseError("rule : A > 0 => positive") ==
             "<rules>:1:6: expected rule name, found ':'");
  BOOST_TEST(ParseError("rul a: A > 0 => positive") == "<rules>:1:1: expected 'rule', found 'rul'");
  BOOST_TEST(ParseError("rule a: A > 0 @ => positive") ==
             "<rules>:1:15: expected 'and', 'or' or '=>', found '@'");
}

BOOST_AUTO_TEST_CASE(ErrorsNameTheSourceAndLine) {
  BOOST_TEST(ParseError("# header\nrule a: A > 0 => positive\n\n  rule b: B > 0 => neg\n", kAbcd,
                        "rules.txt") ==
             "rules.txt:4:20: expected 'positive' or 'negative', found 'neg'");
  BOOST_TEST(ParseError("rule a: A > 0 => positive\nrule a: B > 0 => negative", kAbcd,
                        "fraud.rules") ==
             "fraud.rules:2:6: duplicate rule name 'a' (first defined on line 1)");
}

BOOST_AUTO_TEST_CASE(UnknownFeatureListIsTruncated) {
  std::vector<std::string> many;
  for (int i = 0; i < 30; ++i) many.push_back("F" + std::to_string(i));
  const std::string message = ParseError("rule a: G1 > 0 => positive", many);
  BOOST_TEST(message.find("unknown feature 'G1'") != std::string::npos);
  BOOST_TEST(message.find("F19, ... (30 in all)") != std::string::npos);
  BOOST_TEST(message.find("F20") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "rule a: " + std::string(5000, '(') + "A > 0" + std::string(5000, ')') +
                           " => positive";
  BOOST_TEST(ParseError(deep).find("nested deeper than") != std::string::npos);
  std::string nots = "rule a: ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  BOOST_TEST(ParseError(nots + "A > 0 => positive").find("nested deeper than") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(LoadFileReadsRulesAndReportsMissingFiles) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("reflex_rules_test_" + std::to_string(std::random_device()()) + ".rules");
  {
    std::ofstream out(path);
    out << "rule hi: A > 1 => positive\nrule lo: A < -1 => negative oops\n";
  }
  Result<RuleSet> bad = RuleSet::LoadFile(path.string(), kAbcd);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.status().message() ==
             path.string() + ":2:29: expected end of line, found 'oops'");
  {
    std::ofstream out(path);
    out << "rule hi: A > 1 => positive\n";
  }
  Result<RuleSet> good = RuleSet::LoadFile(path.string(), kAbcd);
  BOOST_REQUIRE(good.ok());
  BOOST_TEST(good->size() == 1u);
  std::filesystem::remove(path);

  Result<RuleSet> missing = RuleSet::LoadFile(path.string(), kAbcd);
  BOOST_TEST(!missing.ok());
  BOOST_CHECK(missing.status().code() == StatusCode::kIoError);
  BOOST_TEST(missing.status().message().find(path.string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(EvaluateCountsFiringsAndConflictsPerRule) {
  RuleSet rules = MustParse(
      "rule pos: A > 0 => positive\n"
      "rule neg: B > 0 => negative\n");
  // rows: A, B, C, D
  const std::vector<float> rows = {
      1, 0, 0, 0,  // pos fires, p 0.9: agrees
      1, 0, 0, 0,  // pos fires, p 0.1: conflict
      1, 1, 0, 0,  // both fire, p 0.5: neither conflicts at threshold 0.3
      0, 1, 0, 0,  // neg fires, p 0.8: conflict
      0, 1, 0, 0,  // neg fires, p 0.2: agrees
      0, 0, 0, 0,  // none fire, p 0.0
  };
  const std::vector<float> probs = {0.9f, 0.1f, 0.5f, 0.8f, 0.2f, 0.0f};
  RuleSet::BatchStats stats = rules.Evaluate(rows.data(), 6, probs.data(), 0.3);
  BOOST_TEST(stats.rows == 6u);
  BOOST_TEST(stats.fired == (std::vector<uint64_t>{3, 3}));
  BOOST_TEST(stats.conflicts == (std::vector<uint64_t>{1, 1}));
  // A stricter threshold also counts the undecided row (p 0.5) as a conflict for both.
  stats = rules.Evaluate(rows.data(), 6, probs.data(), 0.6);
  BOOST_TEST(stats.conflicts == (std::vector<uint64_t>{2, 2}));
  // Without probabilities only firings are counted.
  stats = rules.Evaluate(rows.data(), 6, nullptr, 0.3);
  BOOST_TEST(stats.fired == (std::vector<uint64_t>{3, 3}));
  BOOST_TEST(stats.conflicts == (std::vector<uint64_t>{0, 0}));
}

BOOST_AUTO_TEST_CASE(WeakLabelsFollowAgreeingRulesAndAbstainOnDisagreement) {
  RuleSet rules = MustParse(
      "rule pos1: A > 0 => positive\n"
      "rule pos2: C > 0 => positive\n"
      "rule neg: B > 0 => negative\n");
  const std::vector<float> rows = {
      1, 0, 0, 0,  // pos1 -> 1
      1, 0, 1, 0,  // pos1 + pos2 -> 1
      0, 1, 0, 0,  // neg -> 0
      1, 1, 0, 0,  // pos1 vs neg -> -1
      0, 0, 0, 0,  // none -> -1
  };
  BOOST_TEST(rules.WeakLabels(rows.data(), 5) == (std::vector<int8_t>{1, 1, 0, -1, -1}));
  const std::vector<bool> no_neg = {true, true, false};
  BOOST_TEST(rules.WeakLabels(rows.data(), 5, &no_neg) == (std::vector<int8_t>{1, 1, -1, 1, -1}));
  const std::vector<bool> only_neg = {false, false, true};
  BOOST_TEST(rules.WeakLabels(rows.data(), 5, &only_neg) ==
             (std::vector<int8_t>{-1, -1, 0, 0, -1}));
}

BOOST_AUTO_TEST_CASE(CopiesEvaluateIndependently) {
  RuleSet copy;
  BOOST_TEST(copy.empty());
  {
    RuleSet original = MustParse("rule r: A > 0 and not B > 0 => positive");
    copy = original;
  }
  const float row[4] = {1, 0, 0, 0};
  BOOST_TEST(copy.Fires(0, row));
  RuleSet moved = std::move(copy);
  BOOST_TEST(moved.Fires(0, row));
  BOOST_TEST(moved.ToString(0) == "rule r: A > 0 and not B > 0 => positive");
}
