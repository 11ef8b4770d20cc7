// NormalizedText: a normalized UTF-8 string that remembers, for every byte,
// which bytes of the original input it came from.
//
// A value type owned by whoever tokenizes; reused across calls to avoid
// allocation. Not thread-safe to share while being written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mg::text {

struct NormalizedText {
  std::string text;
  // For normalized byte i: the original bytes [orig_begin[i], orig_end[i]) of
  // the character it was produced from. Offsets are absolute in the input.
  std::vector<uint32_t> orig_begin;
  std::vector<uint32_t> orig_end;

  void Clear() {
    text.clear();
    orig_begin.clear();
    orig_end.clear();
  }
  size_t size() const { return text.size(); }
};

}  // namespace mg::text
