#include "base/fake_env.h"

#include "base/bytes.h"

namespace mg {

class FakeEnv::Appender final : public AppendableFile {
 public:
  Appender(FakeEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  Status AppendAndSync(std::string_view data) override { return env_->Append(path_, data); }

 private:
  FakeEnv* const env_;
  const std::string path_;
};

FakeEnv::FakeEnv(SysMillis now) : now_(now) {}

void FakeEnv::SetNow(SysMillis now) {
  std::lock_guard lock(mutex_);
  if (now > now_) advanced_ += now - now_;
  now_ = now;
}

void FakeEnv::Advance(std::chrono::milliseconds by) {
  std::lock_guard lock(mutex_);
  now_ += by;
  if (by.count() > 0) advanced_ += by;
}

void FakeEnv::FailWrites(bool fail) {
  std::lock_guard lock(mutex_);
  fail_writes_ = fail;
}

unsigned FakeEnv::ModeOf(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second.mode;
}

SysMillis FakeEnv::Now() {
  std::lock_guard lock(mutex_);
  return now_;
}

std::chrono::steady_clock::time_point FakeEnv::SteadyNow() {
  std::lock_guard lock(mutex_);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(advanced_));
}

Result<std::string> FakeEnv::ReadFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFoundError("cannot open " + path + ": no such file");
  return it->second.contents;
}

Status FakeEnv::WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode) {
  std::lock_guard lock(mutex_);
  if (fail_writes_) return IoError("cannot write " + path + ": No space left on device");
  files_[path] = File{std::string(contents), mode};
  return Status::Ok();
}

Result<std::unique_ptr<AppendableFile>> FakeEnv::OpenForAppend(const std::string& path,
                                                               unsigned mode) {
  std::lock_guard lock(mutex_);
  if (fail_writes_) return IoError("cannot open " + path + ": No space left on device");
  if (!files_.contains(path)) files_[path] = File{"", mode};
  return std::unique_ptr<AppendableFile>(std::make_unique<Appender>(this, path));
}

Status FakeEnv::Append(const std::string& path, std::string_view data) {
  std::lock_guard lock(mutex_);
  if (fail_writes_) return IoError("cannot write " + path + ": No space left on device");
  files_[path].contents.append(data);
  return Status::Ok();
}

Result<std::vector<std::string>> FakeEnv::ListDirectory(const std::string& dir) {
  std::lock_guard lock(mutex_);
  const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  std::vector<std::string> names;
  for (const auto& [path, file] : files_) {
    if (!path.starts_with(prefix)) continue;
    const std::string rest = path.substr(prefix.size());
    const size_t slash = rest.find('/');
    const std::string name = rest.substr(0, slash);
    if (!name.empty() && (names.empty() || names.back() != name)) names.push_back(name);
  }
  if (names.empty()) return NotFoundError("cannot list " + dir + ": no such directory");
  return names;
}

Status FakeEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(path) == 0) return NotFoundError("cannot remove " + path + ": no such file");
  return Status::Ok();
}

Status FakeEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(from);
  if (it == files_.end()) return NotFoundError("cannot rename onto " + to + ": no such file");
  File file = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(file);
  return Status::Ok();
}

bool FakeEnv::FileExists(const std::string& path) {
  std::lock_guard lock(mutex_);
  return files_.contains(path);
}

void FakeEnv::RandomBytes(void* out, size_t size) {
  std::lock_guard lock(mutex_);
  // BLAKE2b of a counter: a fixed, well-mixed sequence.
  auto* bytes = static_cast<unsigned char*>(out);
  size_t filled = 0;
  while (filled < size) {
    const std::string block = Blake2b256("fake-env-random-" + std::to_string(random_counter_++));
    const size_t take = std::min(block.size(), size - filled);
    std::copy(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(take), bytes + filled);
    filled += take;
  }
}

}  // namespace mg
