// Output: where a command writes its results. Standard output, or a file
// that appears under its final name only when the command succeeds.
//
// Output is collected in one block and written in large pieces (never a line
// at a time). Writers that format a lot (JSON lines of token ids) fill the
// block in place: Reserve() room, write through the pointer, Advance() past
// what was written.
#pragma once

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace mg::cli {

class Output {
 public:
  // Empty path or "-" means standard output.
  explicit Output(std::string path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Appends `data`; flushed in large blocks.
  void Write(std::string_view data);

  // Room for at least `bytes` bytes after what is written so far; valid
  // until the next call on this Output.
  char* Reserve(size_t bytes) {
    if (capacity_ - used_ < bytes) MakeRoom(bytes);
    return block_.get() + used_;
  }
  // Marks the bytes up to `end` (within the last Reserve()) as written.
  void Advance(char* end) {
    used_ = static_cast<size_t>(end - block_.get());
    if (used_ >= kFlushBytes) Flush();
  }

  // Makes the output visible under its final name. Without Commit(), a file
  // output is removed on destruction.
  void Commit();

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 20;

  void MakeRoom(size_t bytes);
  void Flush();

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> block_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  bool committed_ = false;
};

}  // namespace mg::cli
