// Crash-safe whole-file writes and whole-file reads, for small files Reflex persists (registry
// versions, the ACTIVE pointer).
//
// WriteFileAtomically(path, bytes) writes `bytes` to "<path>.tmp", fsyncs it, renames it over
// `path` and fsyncs the folder, so after a crash `path` holds either its old or its new contents,
// never a mix. A crash can leave "<path>.tmp" behind; readers ignore such files and owners remove
// them (IsTemporaryFileName tells them apart).
//
// Plain functions; safe from any thread as long as no two writers target the same path (the
// file's owner serialises writes). Sizes are bytes.
#pragma once

#include <string>

#include "core/status.h"

namespace reflex {

// The suffix of the temporary file a write goes through: ".tmp".
extern const char kTemporaryFileSuffix[];

// True when `file_name` ends with kTemporaryFileSuffix.
bool IsTemporaryFileName(const std::string& file_name);

// IoError (naming the path, the step and the OS reason) when any step fails; the temporary file
// is removed on failure.
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// The whole contents of `path`. NotFound when it does not exist, IoError when it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace reflex
