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

// Writes `contents` to a temporary file beside `path`, then renames it over
// `path`, so a reader never sees a partial file under the final name.
// `mode` is the permission of the new file (0600 for secrets).
Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode = 0644);

bool FileExists(const std::string& path);

// "dir/name" with exactly one separator.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace mg
