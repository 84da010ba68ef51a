// The field syntax of one CSV line, shared by the labelled-data reader and writer (csv.h).
//
// Fields are separated by ','. A field may be surrounded by spaces or tabs, which are dropped,
// and may be quoted ("a,b" with "" for a quote inside); a quoted field cannot span lines. A
// trailing '\r' (CRLF files) is whitespace.
//
// Ownership: results are returned through caller-owned vectors. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace reflex {

// `s` without surrounding spaces, tabs and '\r'.
std::string_view TrimCsvBlanks(std::string_view s);

// Splits `line` (no '\n') into trimmed, unquoted fields, reusing `fields`' storage. An
// unterminated quote or text after a closing quote is InvalidArgument, reported as
// "<path>:<line_number>:<field>: ...".
Status SplitCsvLine(std::string_view line, const std::string& path, size_t line_number,
                    std::vector<std::string>* fields);

// `field` as it must be written so that SplitCsvLine reads it back unchanged: quoted when it
// is empty, holds ',', '"', '\r' or '\n', or starts or ends with a blank.
std::string QuoteCsvField(const std::string& field);

}  // namespace reflex
