// MappedFile: a whole file mapped read-only into memory.
//
// Checkpoint readers view tensors in place through a MappedFile, so opening a
// model costs page-table entries, not copies. The mapping is private and
// read-only and lives as long as the MappedFile; pointers into it must not
// outlive it. Reading is thread-safe. If another process truncates the file
// while it is mapped, touching the lost pages raises SIGBUS: model files are
// expected to stay unchanged while they are served.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace mg {

class MappedFile {
 public:
  // Maps `path`. Fails with NotFound, IoError, or InvalidArgument (a
  // directory, an empty file), each naming the path.
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(const uint8_t* data, size_t size, std::string path)
      : data_(data), size_(size), path_(std::move(path)) {}

  const uint8_t* data_;
  size_t size_;
  std::string path_;
};

}  // namespace mg
