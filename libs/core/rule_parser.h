// Parser of the symbolic rule language:
//
//   # comment (whole line or trailing)
//   rule NAME: EXPR => positive|negative
//   EXPR := EXPR or EXPR | EXPR and EXPR | not EXPR | ( EXPR ) | FEATURE OP NUMBER
//   OP   := < | <= | > | >= | == | !=
//
// Precedence not > and > or; and/or are left-associative. One rule per line; blank lines are
// allowed. NAME and FEATURE are identifiers [A-Za-z_][A-Za-z0-9_.]*; FEATURE must be one of
// the input's column names. NUMBER is a finite decimal such as -1.5, 3 or 2e-3. Rule names are
// unique.
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

// Parses `text` against the column names `feature_names`; `source_name` prefixes messages.
Result<RuleProgram> ParseRuleProgram(const std::string& text,
                                     const std::vector<std::string>& feature_names,
                                     const std::string& source_name);

}  // namespace reflex
