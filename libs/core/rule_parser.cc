#include "core/rule_parser.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/rule_lexer.h"

namespace reflex {

namespace {

constexpr int kMaxDepth = 200;          // nesting of parentheses and 'not'
constexpr size_t kMaxListedNames = 20;  // in an "unknown feature/class" message

using Kind = RuleToken::Kind;

std::string Describe(const RuleToken& token) {
  if (token.kind == Kind::kEnd) return "end of line";
  if (token.kind == Kind::kString) return "'\"" + token.text + "\"'";
  return "'" + token.text + "'";
}

std::string KnownNames(const std::vector<std::string>& names, const char* what) {
  if (names.empty()) return std::string("no ") + what + " are known";
  std::string list = "known: ";
  for (size_t i = 0; i < names.size() && i < kMaxListedNames; ++i) {
    if (i > 0) list += ", ";
    list += names[i];
  }
  if (names.size() > kMaxListedNames) {
    list += ", ... (" + std::to_string(names.size()) + " in all)";
  }
  return list;
}

// Parses one line at a time into a shared RuleProgram.
class LineParser {
 public:
  LineParser(const std::string& source, size_t line_number,
             const std::unordered_map<std::string, uint32_t>& features,
             const std::vector<std::string>& feature_names,
             const std::vector<std::string>& class_names, RuleProgram* program)
      : source_(source), line_(line_number), features_(features), feature_names_(feature_names),
        class_names_(class_names), program_(program) {}

  // Parses `text`; a blank or comment-only line adds nothing.
  Status Parse(const std::string& text, std::unordered_map<std::string, size_t>* names) {
    tokens_ = LexRuleLine(text);
    pos_ = 0;
    if (Peek().kind == Kind::kEnd) return Status::Ok();
    if (!IsWord(Peek(), "rule")) return Expected("'rule'");
    ++pos_;
    if (Peek().kind != Kind::kIdentifier) return Expected("rule name");
    const RuleToken name = Peek();
    ++pos_;
    auto [it, inserted] = names->emplace(name.text, line_);
    if (!inserted) {
      return At(name, "duplicate rule name '" + name.text + "' (first defined on line " +
                          std::to_string(it->second) + ")");
    }
    if (Peek().kind != Kind::kColon) return Expected("':' after the rule name");
    ++pos_;
    Rule rule;
    rule.name = name.text;
    rule.line = line_;
    REFLEX_RETURN_IF_ERROR(ParseOr(0, &rule.root));
    if (Peek().kind != Kind::kArrow) return Expected("'and', 'or' or '=>'");
    ++pos_;
    REFLEX_RETURN_IF_ERROR(class_names_.empty() ? ParseBinaryOutcome(&rule) : ParseClassOutcome(&rule));
    if (Peek().kind != Kind::kEnd) return Expected("end of line");
    program_->rules.push_back(std::move(rule));
    return Status::Ok();
  }

 private:
  const RuleToken& Peek() const { return tokens_[pos_]; }

  // positive | negative
  Status ParseBinaryOutcome(Rule* rule) {
    if (IsWord(Peek(), "positive")) {
      rule->outcome = RuleOutcome::kPositive;
    } else if (IsWord(Peek(), "negative")) {
      rule->outcome = RuleOutcome::kNegative;
    } else if (IsWord(Peek(), "class")) {
      return At(Peek(), "expected 'positive' or 'negative', found 'class': class rules need a "
                        "multi-class model, and no class names were given");
    } else {
      return Expected("'positive' or 'negative'");
    }
    ++pos_;
    return Status::Ok();
  }

  // class CLASS
  Status ParseClassOutcome(Rule* rule) {
    if (IsWord(Peek(), "positive") || IsWord(Peek(), "negative")) {
      return At(Peek(), "expected 'class NAME', found '" + Peek().text +
                            "': a multi-class model's rules name a class");
    }
    if (!IsWord(Peek(), "class")) return Expected("'class NAME'");
    ++pos_;
    if (Peek().kind != Kind::kIdentifier && Peek().kind != Kind::kString) {
      return Expected("a class name (NAME or \"NAME\") after 'class'");
    }
    const RuleToken& name = Peek();
    for (size_t i = 0; i < class_names_.size(); ++i) {
      if (class_names_[i] == name.text) {
        rule->outcome = RuleOutcome::kClass;
        rule->class_index = static_cast<uint32_t>(i);
        ++pos_;
        return Status::Ok();
      }
    }
    return At(name, "unknown class '" + name.text + "' (" + KnownNames(class_names_, "classes") + ")");
  }
  static bool IsWord(const RuleToken& t, const char* word) {
    return t.kind == Kind::kIdentifier && t.text == word;
  }

  Status At(const RuleToken& token, const std::string& message) const {
    return Status::InvalidArgument(source_ + ":" + std::to_string(line_) + ":" +
                                   std::to_string(token.column) + ": " + message);
  }
  Status Expected(const std::string& what) const {
    return At(Peek(), "expected " + what + ", found " + Describe(Peek()));
  }

  int32_t Add(const RuleNode& node) {
    program_->nodes.push_back(node);
    return static_cast<int32_t>(program_->nodes.size() - 1);
  }

  Status Binary(int depth, RuleNode::Kind kind, int32_t* out) {
    const bool is_or = kind == RuleNode::Kind::kOr;
    const char* word = is_or ? "or" : "and";
    int32_t lhs = -1;
    REFLEX_RETURN_IF_ERROR(is_or ? ParseAnd(depth, &lhs) : ParseNot(depth, &lhs));
    while (IsWord(Peek(), word)) {
      ++pos_;
      int32_t rhs = -1;
      REFLEX_RETURN_IF_ERROR(is_or ? ParseAnd(depth, &rhs) : ParseNot(depth, &rhs));
      RuleNode node;
      node.kind = kind;
      node.lhs = lhs;
      node.rhs = rhs;
      lhs = Add(node);
    }
    *out = lhs;
    return Status::Ok();
  }
  Status ParseOr(int depth, int32_t* out) { return Binary(depth, RuleNode::Kind::kOr, out); }
  Status ParseAnd(int depth, int32_t* out) { return Binary(depth, RuleNode::Kind::kAnd, out); }

  Status ParseNot(int depth, int32_t* out) {
    if (depth > kMaxDepth) {
      return At(Peek(), "expression nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (!IsWord(Peek(), "not")) return ParsePrimary(depth, out);
    ++pos_;
    RuleNode node;
    node.kind = RuleNode::Kind::kNot;
    REFLEX_RETURN_IF_ERROR(ParseNot(depth + 1, &node.lhs));
    *out = Add(node);
    return Status::Ok();
  }

  Status ParsePrimary(int depth, int32_t* out) {
    if (Peek().kind == Kind::kLeftParen) {
      ++pos_;
      REFLEX_RETURN_IF_ERROR(ParseOr(depth + 1, out));
      if (Peek().kind != Kind::kRightParen) return Expected("')'");
      ++pos_;
      return Status::Ok();
    }
    if (Peek().kind != Kind::kIdentifier || IsWord(Peek(), "and") || IsWord(Peek(), "or")) {
      return Expected("a comparison (FEATURE OP NUMBER), 'not' or '('");
    }
    const RuleToken& feature = Peek();
    auto it = features_.find(feature.text);
    if (it == features_.end()) {
      return At(feature, "unknown feature '" + feature.text + "' (" +
                             KnownNames(feature_names_, "features") + ")");
    }
    ++pos_;
    if (Peek().kind != Kind::kCompare) {
      return Expected("comparison operator (<, <=, >, >=, ==, !=) after '" + feature.text + "'");
    }
    RuleNode node;
    node.kind = RuleNode::Kind::kCompare;
    node.op = Peek().op;
    node.feature = it->second;
    ++pos_;
    if (Peek().kind != Kind::kNumber) {
      if (Peek().kind == Kind::kBadNumber) {
        return Expected("a finite number such as -1.5, 3 or 2e-3");
      }
      return Expected("number");
    }
    node.number = Peek().number;
    node.threshold = static_cast<float>(node.number);
    ++pos_;
    *out = Add(node);
    return Status::Ok();
  }

  const std::string& source_;
  size_t line_;
  const std::unordered_map<std::string, uint32_t>& features_;
  const std::vector<std::string>& feature_names_;
  const std::vector<std::string>& class_names_;
  RuleProgram* program_;
  std::vector<RuleToken> tokens_;
  size_t pos_ = 0;
};

}  // namespace

bool IsBareRuleClassName(const std::string& name) {
  const std::vector<RuleToken> tokens = LexRuleLine(name);
  return tokens.size() == 2 && tokens[0].kind == Kind::kIdentifier && tokens[0].text == name;
}

Status ValidateRuleClassNames(const std::vector<std::string>& class_names, const std::string& source) {
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < class_names.size(); ++i) {
    const std::string& name = class_names[i];
    if (name.empty()) return Status::InvalidArgument(source + ": class " + std::to_string(i) + " has an empty name");
    if (name.find_first_of("\"\r\n") != std::string::npos) {
      return Status::InvalidArgument(source + ": class name '" + name + "' contains a quote or a line break");
    }
    auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      return Status::InvalidArgument(source + ": class name '" + name + "' is given twice (classes " +
                                     std::to_string(it->second) + " and " + std::to_string(i) + ")");
    }
  }
  return Status::Ok();
}

Result<RuleProgram> ParseRuleProgram(const std::string& text,
                                     const std::vector<std::string>& feature_names,
                                     const std::string& source_name,
                                     const std::vector<std::string>& class_names) {
  REFLEX_RETURN_IF_ERROR(ValidateRuleClassNames(class_names, source_name + ": the model's classes"));
  std::unordered_map<std::string, uint32_t> features;
  for (size_t i = 0; i < feature_names.size(); ++i) {
    features.emplace(feature_names[i], static_cast<uint32_t>(i));  // first column wins
  }
  RuleProgram program;
  std::unordered_map<std::string, size_t> names;  // rule name -> line
  size_t start = 0;
  for (size_t line_number = 1; start <= text.size(); ++line_number) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    LineParser parser(source_name, line_number, features, feature_names, class_names, &program);
    REFLEX_RETURN_IF_ERROR(parser.Parse(text.substr(start, end - start), &names));
    start = end + 1;
  }
  return program;
}

}  // namespace reflex
