#include "base/env.h"

#include <sodium.h>

#include "base/bytes.h"
#include "base/file.h"

namespace mg {
namespace {

class PosixAppendableFile final : public AppendableFile {
 public:
  explicit PosixAppendableFile(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}

  Status AppendAndSync(std::string_view data) override {
    MG_RETURN_IF_ERROR(file_->Append(data));
    return file_->Sync();
  }

 private:
  std::unique_ptr<WritableFile> file_;
};

class PosixEnv final : public Env {
 public:
  SysMillis Now() override {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
  std::chrono::steady_clock::time_point SteadyNow() override {
    return std::chrono::steady_clock::now();
  }
  Result<std::string> ReadFile(const std::string& path) override { return mg::ReadFile(path); }
  Status WriteFileAtomic(const std::string& path, std::string_view contents,
                         unsigned mode) override {
    return mg::WriteFileAtomic(path, contents, mode);
  }
  Result<std::unique_ptr<AppendableFile>> OpenForAppend(const std::string& path,
                                                        unsigned mode) override {
    MG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                        WritableFile::OpenForAppend(path, mode));
    return std::unique_ptr<AppendableFile>(std::make_unique<PosixAppendableFile>(std::move(file)));
  }
  Result<std::vector<std::string>> ListDirectory(const std::string& dir) override {
    return mg::ListDirectory(dir);
  }
  Status RemoveFile(const std::string& path) override { return mg::RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return mg::RenameFile(from, to);
  }
  bool FileExists(const std::string& path) override { return mg::FileExists(path); }
  void RandomBytes(void* out, size_t size) override {
    EnsureSodium();
    randombytes_buf(out, size);
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;  // stateless, so usable until the process ends
  return &env;
}

std::function<std::chrono::sys_seconds()> SecondsClock(Env* env) {
  return [env] { return env->NowSeconds(); };
}

std::function<int64_t()> MillisecondsClock(Env* env) {
  return [env] { return env->NowMs(); };
}

}  // namespace mg
