// Helpers shared by the libFuzzer harnesses: splitting one input into parts
// and reporting a broken invariant as a crash libFuzzer records.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace mg::fuzz {

// The bytes libFuzzer passes, as text.
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits `input` at each "\n--\n" into at most `parts` pieces (the last one
// keeps any further separators), so one input can carry several files.
inline std::vector<std::string_view> SplitParts(std::string_view input, size_t parts) {
  static constexpr std::string_view kSeparator = "\n--\n";
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const size_t at = input.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.push_back(input.substr(0, at));
    input.remove_prefix(at + kSeparator.size());
  }
  out.push_back(input);
  while (out.size() < parts) out.emplace_back();
  return out;
}

// A path whose file holds `bytes`: an in-memory file reused by every run,
// for parsers that only take a path.
inline std::string MemoryFile(std::string_view bytes) {
  static const int fd = memfd_create("fuzz-input", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    std::perror("memfd");
    std::abort();
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// An oracle failed: print why and abort, which libFuzzer saves as a crash.
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz oracle failed: %s\n", what);
  std::abort();
}

}  // namespace mg::fuzz
