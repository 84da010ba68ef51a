// Reply printer: turns a coordinator ControlReply body (JSON text; formats in
// libs/wire/PROTOCOL.md, "Control bodies") into reflexctl's human output.
//
// Tolerant by design: a field that is missing, null or of an unexpected type prints as "-",
// never crashes; a body that is not JSON is printed as it came; a body whose shape is not the
// one known for the command (or a command it does not know) is printed as indented JSON.
// Pure functions, safe from any thread. Units: *_age_ms and *_unix_ms fields are milliseconds.
#pragma once

#include <string>

namespace reflex::reflexctl {

// The text to print for `command` (the wire command, e.g. "policy-set"); ends with '\n'.
std::string FormatReply(const std::string& command, const std::string& body_json);

// The body on one line for --json: as it came when it is already one line, else re-serialised
// compactly (or with its line breaks replaced by blanks when it is not JSON).
std::string OneLineJson(const std::string& body_json);

}  // namespace reflex::reflexctl
