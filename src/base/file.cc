#include "base/file.h"

#include "base/bytes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace mg {
namespace {

Status ErrnoError(const std::string& what, const std::string& path) {
  int err = errno;
  std::string message = what + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return NotFoundError(message);
  return IoError(message);
}

// "dir" of "dir/name" ("." for a bare name, "/" for "/name").
std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// 16 random hex digits from the kernel's generator.
std::string RandomSuffix() {
  unsigned char bytes[8] = {};
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    MG_CHECK_MSG(n > 0, "getrandom failed");
    got += static_cast<size_t>(n);
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
bool WriteAll(int fd, std::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

namespace {

// Reads all of `fd` (closing it). With `secret`, refuses a file that group
// or others may access, as ssh does for private keys.
Result<std::string> ReadOpenFile(int fd, const std::string& path, bool secret) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoError("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + " is a directory, expected a file");
  }
  if (secret && (st.st_mode & 0077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidArgumentError(std::string("permissions ") + mode + " for '" + path +
                                "' are too open: a secret key must be readable by its owner "
                                "only (chmod 600 " +
                                path + ")");
  }
  std::string data;
  if (st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoError("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  return ReadOpenFile(fd, path, /*secret=*/false);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  return ReadOpenFile(fd, path, /*secret=*/true);
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode) {
  // The temporary name is unpredictable and created exclusively, never
  // through a symlink: nobody can plant a file or link there beforehand to
  // receive the contents or keep its own mode and owner.
  const std::string dir = DirName(path);
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; fd < 0 && attempt < 16; ++attempt) {
    std::string name(1, '.');
    name.append(BaseName(path)).append(".tmp-").append(RandomSuffix());
    tmp = JoinPath(dir, name);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return ErrnoError("cannot create a temporary file for", path);
  }
  if (fd < 0) return ErrnoError("cannot create a temporary file for", path);
  auto fail = [&](const char* what) {
    Status s = ErrnoError(what, path);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  // The mode is set explicitly, whatever the umask: 0600 stays 0600.
  if (::fchmod(fd, mode) != 0) return fail("cannot set the mode of");
  if (!WriteAll(fd, contents)) return fail("cannot write");
  if (::fsync(fd) != 0) return fail("cannot flush");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("cannot flush");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename onto");
  // The rename itself survives a power cut only once the directory is synced.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

size_t RemoveStaleTempFiles(const std::string& dir, std::string_view only) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return 0;
  size_t removed = 0;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    const size_t tag = name.rfind(".tmp-");
    if (name.size() < 2 || name[0] != '.' || tag == std::string_view::npos || tag == 0 ||
        name.size() != tag + 5 + 16 ||
        name.find_first_not_of("0123456789abcdef", tag + 5) != std::string_view::npos) {
      continue;
    }
    if (!only.empty() && name.substr(1, tag - 1) != only) continue;
    if (::unlinkat(::dirfd(listing), entry->d_name, 0) == 0) ++removed;
  }
  ::closedir(listing);
  return removed;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

namespace {

// Reads all of `fd` (closing it) through `piece`.
Result<uint64_t> ReadOpenFileInPieces(int fd, const std::string& path,
                                      const std::function<Status(std::string_view)>& piece) {
  std::vector<char> buffer(1 << 20);
  uint64_t total = 0;
  Status status;
  while (status.ok()) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoError("cannot read", path);
      break;
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    status = piece(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  MG_RETURN_IF_ERROR(status);
  return total;
}

}  // namespace

Result<uint64_t> ReadFileInPieces(const std::string& path,
                                  const std::function<Status(std::string_view)>& piece) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  return ReadOpenFileInPieces(fd, path, piece);
}

Result<uint64_t> CopyToNewFile(const std::string& from, const std::string& to, unsigned mode,
                               const std::function<void(std::string_view)>& piece) {
  // The source is opened first, so that a missing source creates nothing.
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoError("cannot open", from);
  Result<std::unique_ptr<WritableFile>> created = WritableFile::CreateNew(to, mode);
  if (!created.ok()) {
    ::close(in);
    return created.status();
  }
  std::unique_ptr<WritableFile> out = std::move(*created);
  Result<uint64_t> size = ReadOpenFileInPieces(in, from, [&](std::string_view data) {
    if (piece) piece(data);
    return out->Append(data);
  });
  MG_RETURN_IF_ERROR(size.status());
  MG_RETURN_IF_ERROR(out->Sync());
  MG_RETURN_IF_ERROR(out->Close());
  return size;
}

Result<bool> CreateFileIfMissing(const std::string& path, unsigned mode) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno == EEXIST) return false;
  return ErrnoError("cannot create", path);
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoError("cannot remove", path);
  return Status::Ok();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("cannot rename onto", to);
  return Status::Ok();
}

Result<std::string> CaptureFileWrittenByPath(
    const std::function<Status(const std::string& path)>& write) {
  const int fd = ::memfd_create("captured-file", MFD_CLOEXEC);
  if (fd < 0) return IoError(std::string("cannot create a memory file: ") + std::strerror(errno));
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  Status written = write(path);
  Result<std::string> bytes = written.ok() ? ReadFile(path) : Result<std::string>(written);
  ::close(fd);
  return bytes;
}

Result<std::string> CreateTempDirectory(const std::string& prefix) {
  std::string pattern = prefix + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return ErrnoError("cannot create a folder in", DirName(prefix));
  }
  return pattern;
}

Status SetMode(const std::string& path, unsigned mode) {
  if (::chmod(path.c_str(), mode) != 0) return ErrnoError("cannot chmod", path);
  return Status::Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return ErrnoError("cannot list", dir);
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(listing);
  return names;
}

Result<std::unique_ptr<WritableFile>> WritableFile::CreateNew(const std::string& path,
                                                              unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("cannot create", path);
  return std::unique_ptr<WritableFile>(new WritableFile(path, fd));
}

Result<std::unique_ptr<WritableFile>> WritableFile::OpenForAppend(const std::string& path,
                                                                  unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("cannot open", path);
  return std::unique_ptr<WritableFile>(new WritableFile(path, fd));
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status WritableFile::Append(std::string_view data) {
  if (fd_ < 0) return InternalError("write to closed file " + path_);
  if (!WriteAll(fd_, data)) return ErrnoError("cannot write", path_);
  return Status::Ok();
}

Status WritableFile::Sync() {
  if (fd_ < 0) return InternalError("sync of closed file " + path_);
  if (::fsync(fd_) != 0) return ErrnoError("cannot flush", path_);
  return Status::Ok();
}

Status WritableFile::Close() {
  if (fd_ < 0) return Status::Ok();
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) return ErrnoError("cannot close", path_);
  return Status::Ok();
}

}  // namespace mg
