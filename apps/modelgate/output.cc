#include "apps/modelgate/output.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "apps/modelgate/cli_error.h"

namespace mg::cli {

Output::Output(std::string path) : path_(std::move(path)) {
  if (path_.empty() || path_ == "-") {
    file_ = stdout;
    return;
  }
  temp_path_ = path_ + ".partial." + std::to_string(::getpid());
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) throw CliError("cannot create " + path_ + ": " + std::strerror(errno));
}

Output::~Output() {
  if (file_ && file_ != stdout) {
    std::fclose(file_);
    if (!committed_) ::unlink(temp_path_.c_str());
  }
}

void Output::Write(std::string_view data) {
  char* out = Reserve(data.size());
  if (!data.empty()) std::memcpy(out, data.data(), data.size());
  Advance(out + data.size());
}

void Output::MakeRoom(size_t bytes) {
  Flush();
  if (capacity_ >= bytes) return;
  // The block holds kFlushBytes and one more piece of the largest size asked.
  capacity_ = kFlushBytes + std::max(bytes, kFlushBytes);
  block_ = std::make_unique_for_overwrite<char[]>(capacity_);
}

void Output::Flush() {
  if (used_ > 0 && std::fwrite(block_.get(), 1, used_, file_) != used_) {
    throw CliError("cannot write " + (temp_path_.empty() ? std::string("standard output") : path_) +
                   ": " + std::strerror(errno));
  }
  used_ = 0;
}

void Output::Commit() {
  Flush();
  if (file_ == stdout) {
    std::fflush(stdout);
    committed_ = true;
    return;
  }
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    throw CliError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  std::fclose(file_);
  file_ = nullptr;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    ::unlink(temp_path_.c_str());
    throw CliError("cannot create " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
}

}  // namespace mg::cli
