// Files: whole-file reading, streaming, crash-safe writing, appending and
// directory operations. The only place in src/ that calls the POSIX file API
// (open, read, write, fsync, rename, unlink, opendir, mmap); code that wants
// its files replaceable in tests goes through Env (base/env.h), whose real
// implementation calls these.
//
// The free functions are thread-safe (they share no state). Errors name the
// path and the cause ("No such file or directory" is NotFound, other
// failures IoError).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// Calls `piece` with the file's bytes in order, up to 1 MiB at a time, and
// stops at the first error it returns. Returns the number of bytes read.
Result<uint64_t> ReadFileInPieces(const std::string& path,
                                  const std::function<Status(std::string_view)>& piece);

// Copies `from` to `to`, which must not exist yet (created with `mode`
// less the umask), and syncs it. `piece`,
// if set, sees each piece as it is written (to hash it). Returns the size.
// On failure `to` may be left partial; the caller removes it.
Result<uint64_t> CopyToNewFile(const std::string& from, const std::string& to, unsigned mode,
                               const std::function<void(std::string_view)>& piece = {});

// Creates an empty file with exactly `mode` unless one exists; true when it
// created it.
Result<bool> CreateFileIfMissing(const std::string& path, unsigned mode);

Status RemoveFile(const std::string& path);
// rename(2): atomic on one file system; replaces `to`.
Status RenameFile(const std::string& from, const std::string& to);
// The bytes `write` puts in the file it is given a path to, kept in memory
// only (a memfd): for libraries that write only to a path and report no
// write errors, so that the bytes can go to disk through WriteFileAtomic.
Result<std::string> CaptureFileWrittenByPath(
    const std::function<Status(const std::string& path)>& write);

// A new folder, owner-only, named `prefix` and 6 random characters; its path.
Result<std::string> CreateTempDirectory(const std::string& prefix);
// chmod(2).
Status SetMode(const std::string& path, unsigned mode);
// The names in `dir` (not "." or ".."), in no particular order.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);

// A file open for writing; owns its descriptor and closes it when
// destroyed. Not copyable; one thread at a time.
class WritableFile {
 public:
  // A new file, created with `mode` less the umask; fails if `path` exists.
  static Result<std::unique_ptr<WritableFile>> CreateNew(const std::string& path, unsigned mode);
  // The end of `path` (O_APPEND: each Append lands at the end even when
  // other processes append too), created with `mode` if missing.
  static Result<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path,
                                                             unsigned mode);
  ~WritableFile();
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  // Writes all of `data` (one write(2) unless the kernel takes less).
  Status Append(std::string_view data);
  // fsync(2): what was appended survives a crash once this returns.
  Status Sync();
  // Closes the descriptor, reporting a failed close; the destructor closes
  // it silently otherwise.
  Status Close();
  const std::string& path() const { return path_; }

 private:
  WritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  int fd_;
};

// "dir/name" with exactly one separator.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace mg
