// Parser of the symbolic rule language:
//
//   # comment (whole line or trailing)
//   rule NAME: EXPR => positive|negative        (binary models)
//   rule NAME: EXPR => class CLASS               (multi-class models)
//   EXPR := EXPR or EXPR | EXPR and EXPR | not EXPR | ( EXPR ) | FEATURE OP NUMBER
//   OP   := < | <= | > | >= | == | !=
//
// Precedence not > and > or; and/or are left-associative. One rule per line; blank lines are
// allowed. NAME and FEATURE are identifiers [A-Za-z_][A-Za-z0-9_.]*; FEATURE must be one of
// the input's column names. NUMBER is a finite decimal such as -1.5, 3 or 2e-3. Rule names are
// unique. CLASS is an identifier or a double-quoted name ("T-shirt/top"; no escapes), one of the
// class names given to the parser. Without class names (a binary model) only positive/negative
// are allowed; with them only 'class CLASS' is.
//
// Errors are InvalidArgument, reported at the first problem, as
// "<source>:<line>:<column>: expected <what>, found '<token>'" (or "found end of line"), or
// "<source>:<line>:<column>: unknown feature 'X' (known: ...)" and similar.
//
// Ownership: returns the program by value. Thread-safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "core/rule_ast.h"
#include "core/status.h"

namespace reflex {

// Parses `text` against the column names `feature_names` and, for a multi-class model, its
// `class_names` (empty for a binary model); `source_name` prefixes messages.
Result<RuleProgram> ParseRuleProgram(const std::string& text,
                                     const std::vector<std::string>& feature_names,
                                     const std::string& source_name,
                                     const std::vector<std::string>& class_names = {});

// Whether `name` can be written bare after 'class' (an identifier); otherwise it is quoted.
bool IsBareRuleClassName(const std::string& name);

// Checks a model's class names for use in rules: non-empty, unique, no '"' or line breaks.
// InvalidArgument names `source` and the offending entry.
Status ValidateRuleClassNames(const std::vector<std::string>& class_names, const std::string& source);

}  // namespace reflex
