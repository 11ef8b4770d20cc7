// NumberToken: the run of digit groups around a position, each group
// separated from the next by exactly one separator character, as the number
// detectors read it before checking its shape ("460-89-9847",
// "110105 19491231 002X").
//
// Stateless inline functions; thread-safe.
#pragma once

#include <array>
#include <string_view>

#include "privacy/chars.h"

namespace mg::privacy {

struct DigitGroup {
  size_t begin;
  size_t end;
  char separator_before;  // '\0' for the first group
};

// The groups of one token, without allocating (a token spans at most
// 2 * kLimit bytes, so at most kLimit + 1 groups).
struct DigitGroups {
  static constexpr size_t kLimit = 64;
  std::array<DigitGroup, kLimit + 1> group;
  size_t count = 0;

  size_t size() const { return count; }
  const DigitGroup& operator[](size_t index) const { return group[index]; }
  const DigitGroup& front() const { return group[0]; }
  const DigitGroup& back() const { return group[count - 1]; }
  // Digits in groups [first, first + n).
  size_t Digits(size_t first, size_t n) const {
    size_t digits = 0;
    for (size_t g = first; g < first + n; ++g) digits += group[g].end - group[g].begin;
    return digits;
  }
};

// Reads the groups around text[pos - 1] (a digit), at most kLimit bytes on
// each side. `separators` (one or two characters) may stand between groups; with
// `check_x`, the token may end in 'X' or 'x' (a resident identity number's
// check character), after the last digit or one separator after it.
inline void ReadDigitGroups(std::string_view text, size_t pos, std::string_view separators,
                            bool check_x, DigitGroups* groups) {
  auto is_separator_at = [&](size_t at) {
    const char c = text[at];
    return (c == separators[0] || c == separators.back()) && IsDigit(ByteBefore(text, at)) &&
           IsDigit(ByteAt(text, at + 1));
  };
  constexpr size_t kLimit = DigitGroups::kLimit;
  size_t begin = pos;
  while (begin > 0 && pos - begin < kLimit &&
         (IsDigit(text[begin - 1]) || is_separator_at(begin - 1))) {
    --begin;
  }
  size_t end = pos;
  while (end < text.size() && end - pos < kLimit && (IsDigit(text[end]) || is_separator_at(end))) {
    ++end;
  }
  auto is_x = [&](size_t at) { return ByteAt(text, at) == 'X' || ByteAt(text, at) == 'x'; };
  if (check_x && is_x(end)) {
    ++end;
  } else if (check_x && end < text.size() && end > begin &&
             (text[end] == separators[0] || text[end] == separators.back()) && is_x(end + 1)) {
    end += 2;  // "... 0 0 2 X", written one character at a time
  }
  groups->count = 0;
  char separator = '\0';
  for (size_t at = begin; at < end;) {
    size_t stop = at;
    while (stop < end && (IsDigit(text[stop]) || text[stop] == 'X' || text[stop] == 'x')) ++stop;
    groups->group[groups->count++] = {at, stop, separator};
    separator = ByteAt(text, stop);
    at = stop + 1;
  }
}

}  // namespace mg::privacy
