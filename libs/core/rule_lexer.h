// Splits one line of the rule language (see rules.h) into tokens.
//
// The lexer never fails: text it cannot read becomes a kInvalid token (or kBadNumber for
// something that starts like a number but is not one), and the parser reports it in context
// ("expected number, found '1.2.3'"). A '#' starts a comment that runs to the end of the line
// (not inside a quoted string; an unterminated string is kInvalid).
// The last token of every line is kEnd.
//
// Ownership: returns tokens by value; they copy their text. Thread-safety: a pure function.
// Units: columns are 1-based byte offsets into the line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/rule_ast.h"

namespace reflex {

struct RuleToken {
  enum class Kind {
    kIdentifier,  // [A-Za-z_][A-Za-z0-9_.]*  (keywords too: rule, and, or, not, ...)
    kNumber,      // finite decimal number, value in `number`
    kBadNumber,   // starts like a number but does not parse, or is out of range
    kCompare,     // < <= > >= == !=, operator in `op`
    kString,      // "..." on one line, no escapes; the text between the quotes in `text`
    kArrow,       // =>
    kColon,       // :
    kLeftParen,   // (
    kRightParen,  // )
    kInvalid,     // any other character
    kEnd,         // end of line (or start of a comment)
  };
  Kind kind = Kind::kEnd;
  std::string text;       // the token as written ("" for kEnd; kString: without the quotes)
  size_t column = 0;      // 1-based
  double number = 0;      // kNumber only
  CompareOp op = CompareOp::kLess;  // kCompare only
};

// Tokens of `line` (which has no '\n'; a trailing '\r' is whitespace), ending with kEnd.
std::vector<RuleToken> LexRuleLine(const std::string& line);

}  // namespace reflex
