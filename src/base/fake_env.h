// FakeEnv: an Env for tests. Its clock stands still until the test sets or
// advances it (the steady clock moves with it), its files live in memory,
// and its "random" bytes are a fixed sequence, so every run is the same.
// Fault injection: FailWrites makes every later write fail with IoError, as
// a full disk would.
//
// Thread-safe (one mutex guards everything).
#pragma once

#include <map>
#include <mutex>

#include "base/env.h"

namespace mg {

class FakeEnv final : public Env {
 public:
  // Starts at `now` (default: 2026-01-01T00:00:00Z).
  explicit FakeEnv(SysMillis now = SysMillis(std::chrono::milliseconds(1767225600000)));

  void SetNow(SysMillis now);
  void Advance(std::chrono::milliseconds by);
  void FailWrites(bool fail);
  // The mode a file was last written with; 0 if there is no such file.
  unsigned ModeOf(const std::string& path);

  SysMillis Now() override;
  std::chrono::steady_clock::time_point SteadyNow() override;
  Result<std::string> ReadFile(const std::string& path) override;
  Status WriteFileAtomic(const std::string& path, std::string_view contents,
                         unsigned mode) override;
  Result<std::unique_ptr<AppendableFile>> OpenForAppend(const std::string& path,
                                                        unsigned mode) override;
  Result<std::vector<std::string>> ListDirectory(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  bool FileExists(const std::string& path) override;
  void RandomBytes(void* out, size_t size) override;

 private:
  struct File {
    std::string contents;
    unsigned mode = 0644;
  };
  class Appender;

  Status Append(const std::string& path, std::string_view data);

  std::mutex mutex_;
  SysMillis now_;                         // guarded by mutex_
  std::chrono::milliseconds advanced_{};  // guarded by mutex_: the steady clock
  bool fail_writes_ = false;              // guarded by mutex_
  std::map<std::string, File> files_;     // guarded by mutex_; key: the path as given
  uint64_t random_counter_ = 0;           // guarded by mutex_
};

}  // namespace mg
