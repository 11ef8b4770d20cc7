// Whole-file reading and crash-safe writing.
//
// All functions are thread-safe (they share no state). Errors name the path.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mg {

// Reads the whole file. Fails with NotFound or IoError naming the path.
Result<std::string> ReadFile(const std::string& path);

// Reads a file that holds a secret (a private key). Like ReadFile, but
// refuses, as ssh does, a file that group or others may access:
// "permissions 0644 for 'x.key' are too open".
Result<std::string> ReadSecretFile(const std::string& path);

// Writes `contents` to a new temporary file beside `path` (an unpredictable
// name, created exclusively and never through a symlink), syncs it, renames
// it over `path` and syncs the directory, so a reader never sees a partial
// file under the final name and a crash leaves either the old file or the
// new one. `mode` is the exact permission of the result, whatever the umask
// or the mode of a file it replaces (0600 for secrets). On failure the
// temporary file is removed and `path` is left as it was; the error names
// the cause (e.g. "No space left on device").
Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode = 0644);

// Removes the temporary files WriteFileAtomic leaves in `dir` when the
// process is killed mid-write (".NAME.tmp-" and 16 hex digits), only those
// of file `name` when it is given. For files and folders that one process
// writes at a time (a training run's output, a release); returns how many
// were removed.
size_t RemoveStaleTempFiles(const std::string& dir, std::string_view name = {});

bool FileExists(const std::string& path);

// "dir/name" with exactly one separator.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace mg
