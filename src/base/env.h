// Env: the outside world a component reads, behind one small interface, as
// LevelDB has it: the clock, files and randomness. Components that read the
// time or touch files take an Env* (or a clock built from one) instead of
// calling the system, so that licence expiry, key expiry, quota periods and
// crash recovery are tested with a FakeEnv (base/fake_env.h): a settable
// clock and an in-memory file system.
//
// Env::Default() is the real world: the system clocks, the POSIX file
// functions of base/file.h and libsodium's randomness. It lives for the
// whole process and is never destroyed; every method of every Env is
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace mg {

// A file open for appending. One thread at a time.
class AppendableFile {
 public:
  virtual ~AppendableFile() = default;
  // Writes `data` at the end of the file and syncs it: once this returns,
  // the data survives a crash. With several writers, each call's data
  // lands whole.
  virtual Status AppendAndSync(std::string_view data) = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The real world; never null, never destroyed.
  static Env* Default();

  // Wall-clock time, UTC, in milliseconds.
  virtual SysMillis Now() = 0;
  // Monotonic time, for measuring durations and deadlines.
  virtual std::chrono::steady_clock::time_point SteadyNow() = 0;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Crash-safe replacement of the whole file (see base/file.h).
  virtual Status WriteFileAtomic(const std::string& path, std::string_view contents,
                                 unsigned mode = 0644) = 0;
  // `path` open for appending, created with `mode` if missing.
  virtual Result<std::unique_ptr<AppendableFile>> OpenForAppend(const std::string& path,
                                                                unsigned mode = 0644) = 0;
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual bool FileExists(const std::string& path) = 0;

  // `size` bytes from a cryptographically secure generator.
  virtual void RandomBytes(void* out, size_t size) = 0;

  // Now(), whole seconds (rounded towards the past).
  std::chrono::sys_seconds NowSeconds() { return std::chrono::floor<std::chrono::seconds>(Now()); }
  // Now(), as Unix milliseconds.
  int64_t NowMs() { return Now().time_since_epoch().count(); }
};

// Clocks in the shapes components take them, reading `env` (which must
// outlive the result).
std::function<std::chrono::sys_seconds()> SecondsClock(Env* env);
std::function<int64_t()> MillisecondsClock(Env* env);

}  // namespace mg
