#include "core/rule_ast.h"

#include <charconv>
#include <cstdio>
#include <system_error>

namespace reflex {

namespace {

// Binding strength; higher binds tighter.
int Precedence(RuleNode::Kind kind) {
  switch (kind) {
    case RuleNode::Kind::kOr: return 1;
    case RuleNode::Kind::kAnd: return 2;
    case RuleNode::Kind::kNot: return 3;
    case RuleNode::Kind::kCompare: return 4;
  }
  return 0;
}

void Append(const std::vector<RuleNode>& nodes, int32_t node,
            const std::vector<std::string>& feature_names, std::string* out);

void AppendOperand(const std::vector<RuleNode>& nodes, int32_t child, bool parenthesise,
                   const std::vector<std::string>& feature_names, std::string* out) {
  if (parenthesise) out->push_back('(');
  Append(nodes, child, feature_names, out);
  if (parenthesise) out->push_back(')');
}

void Append(const std::vector<RuleNode>& nodes, int32_t node,
            const std::vector<std::string>& feature_names, std::string* out) {
  const RuleNode& n = nodes[static_cast<size_t>(node)];
  const int mine = Precedence(n.kind);
  switch (n.kind) {
    case RuleNode::Kind::kCompare:
      *out += feature_names[n.feature];
      *out += ' ';
      *out += CompareOpText(n.op);
      *out += ' ';
      *out += FormatRuleNumber(n.number);
      return;
    case RuleNode::Kind::kNot: {
      *out += "not ";
      const int child = Precedence(nodes[static_cast<size_t>(n.lhs)].kind);
      AppendOperand(nodes, n.lhs, child < mine, feature_names, out);
      return;
    }
    case RuleNode::Kind::kAnd:
    case RuleNode::Kind::kOr: {
      const int left = Precedence(nodes[static_cast<size_t>(n.lhs)].kind);
      const int right = Precedence(nodes[static_cast<size_t>(n.rhs)].kind);
      AppendOperand(nodes, n.lhs, left < mine, feature_names, out);
      *out += n.kind == RuleNode::Kind::kAnd ? " and " : " or ";
      // Left-associative: a right operand of equal precedence was parenthesised in the source.
      AppendOperand(nodes, n.rhs, right <= mine, feature_names, out);
      return;
    }
  }
}

}  // namespace

const char* CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kLess: return "<";
    case CompareOp::kLessEqual: return "<=";
    case CompareOp::kGreater: return ">";
    case CompareOp::kGreaterEqual: return ">=";
    case CompareOp::kEqual: return "==";
    case CompareOp::kNotEqual: return "!=";
  }
  return "?";
}

const char* RuleOutcomeText(RuleOutcome outcome) {
  switch (outcome) {
    case RuleOutcome::kPositive: return "positive";
    case RuleOutcome::kNegative: return "negative";
    case RuleOutcome::kClass: return "class";
  }
  return "?";
}

std::string FormatRuleNumber(double number) {
  char buffer[64];
  std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), number);
  if (r.ec != std::errc()) {
    std::snprintf(buffer, sizeof(buffer), "%.17g", number);
    return buffer;
  }
  return std::string(buffer, r.ptr);
}

std::string RuleExprToString(const std::vector<RuleNode>& nodes, int32_t node,
                             const std::vector<std::string>& feature_names) {
  std::string out;
  Append(nodes, node, feature_names, &out);
  return out;
}

}  // namespace reflex
