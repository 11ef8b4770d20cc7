#include "apps/modelgate/output.h"

#include <unistd.h>

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

void Output::Write(const std::string& data) {
  buffer_.append(data);
  if (buffer_.size() >= (1 << 20)) Flush();
}

void Output::Flush() {
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    throw CliError("cannot write " + (temp_path_.empty() ? std::string("standard output") : path_) +
                   ": " + std::strerror(errno));
  }
  buffer_.clear();
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
