// Output: where a command writes its results. Standard output, or a file
// that appears under its final name only when the command succeeds.
#pragma once

#include <cstdio>
#include <string>

namespace mg::cli {

class Output {
 public:
  // Empty path or "-" means standard output.
  explicit Output(std::string path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Appends `data`; flushed in large blocks.
  void Write(const std::string& data);
  // Makes the output visible under its final name. Without Commit(), a file
  // output is removed on destruction.
  void Commit();

 private:
  void Flush();
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  bool committed_ = false;
};

}  // namespace mg::cli
