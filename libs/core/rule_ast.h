// The compiled form of symbolic rules (see rules.h for the language): every rule's expression
// is a tree whose nodes live in one flat vector, so a rule set is a plain copyable value and
// evaluation walks indices, not pointers.
//
// Ownership: RuleProgram owns its nodes and rules by value. Thread-safety: immutable after
// parsing, so concurrent reads are safe. Units: feature values and thresholds are in the
// units of the input's columns; comparisons are done in float, like the data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reflex {

// What a rule asserts about a row it fires on: the positive or negative class of a binary
// model, or (multi-class models) one named class, Rule::class_index.
enum class RuleOutcome { kPositive, kNegative, kClass };

enum class CompareOp : uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

// "<", "<=", ">", ">=", "==", "!=".
const char* CompareOpText(CompareOp op);
// "positive", "negative" or "class".
const char* RuleOutcomeText(RuleOutcome outcome);

struct RuleNode {
  enum class Kind : uint8_t { kCompare, kAnd, kOr, kNot };
  Kind kind = Kind::kCompare;
  CompareOp op = CompareOp::kLess;  // kCompare only
  uint32_t feature = 0;             // kCompare only: column index into the row
  float threshold = 0;              // kCompare only: the number as the data would store it
  double number = 0;                // kCompare only: the number as written, for printing
  int32_t lhs = -1;                 // kAnd, kOr: left operand; kNot: the operand
  int32_t rhs = -1;                 // kAnd, kOr: right operand
};

struct Rule {
  std::string name;
  RuleOutcome outcome = RuleOutcome::kPositive;
  uint32_t class_index = 0;  // kClass only: index into the class names given to the parser
  int32_t root = -1;  // index into RuleProgram::nodes
  size_t line = 0;    // 1-based line of the source it came from
};

struct RuleProgram {
  std::vector<RuleNode> nodes;
  std::vector<Rule> rules;
};

// True when the expression rooted at `node` holds for `row` (short-circuits and/or).
inline bool EvalRuleNode(const std::vector<RuleNode>& nodes, int32_t node, const float* row) {
  const RuleNode& n = nodes[static_cast<size_t>(node)];
  switch (n.kind) {
    case RuleNode::Kind::kCompare: {
      const float x = row[n.feature];
      switch (n.op) {
        case CompareOp::kLess: return x < n.threshold;
        case CompareOp::kLessEqual: return x <= n.threshold;
        case CompareOp::kGreater: return x > n.threshold;
        case CompareOp::kGreaterEqual: return x >= n.threshold;
        case CompareOp::kEqual: return x == n.threshold;
        case CompareOp::kNotEqual: return x != n.threshold;
      }
      return false;
    }
    case RuleNode::Kind::kAnd:
      return EvalRuleNode(nodes, n.lhs, row) && EvalRuleNode(nodes, n.rhs, row);
    case RuleNode::Kind::kOr:
      return EvalRuleNode(nodes, n.lhs, row) || EvalRuleNode(nodes, n.rhs, row);
    case RuleNode::Kind::kNot:
      return !EvalRuleNode(nodes, n.lhs, row);
  }
  return false;
}

// Canonical text of an expression: single spaces, numbers in shortest round-trip form,
// parentheses only where precedence (not > and > or, left-associative) needs them.
std::string RuleExprToString(const std::vector<RuleNode>& nodes, int32_t node,
                             const std::vector<std::string>& feature_names);

// Shortest text that reads back as the same double, e.g. "-1.5", "3", "0.002".
std::string FormatRuleNumber(double number);

}  // namespace reflex
