// Dates of birth: a calendar date (date_parse.h) that follows a birth word
// ("born", "DOB", "date of birth", "出生", "生日", ...) within a few words.
// The birth words are the patterns: a date elsewhere is not a date of birth,
// and scanning only for these words keeps the scan fast. Reported as
// DATE_TIME (Presidio's name).
#include <string>

#include "privacy/chars.h"
#include "privacy/date_parse.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

constexpr std::string_view kBirthWords[] = {
    "born", "birth", "birthday", "birthdate", "dob",   "d.o.b",  "date of birth", "出生",
    "生日", "生于",  "出生日期", "geboren",   "né le", "née le", "nacido"};

// How far after a birth word the date may start, in bytes.
constexpr size_t kWindow = 40;

bool IsAsciiWordWithLetters(std::string_view word) { return IsAlpha(word.front()); }

// The end of the longest date starting at text[begin], or 0.
size_t DateEnd(std::string_view text, size_t begin) {
  size_t stop = begin;
  const size_t limit = std::min(text.size(), begin + 24);
  size_t best = 0;
  // Candidate ends: after each digit (or 日/号) within the limit.
  while (stop < limit) {
    const unsigned char c = static_cast<unsigned char>(text[stop]);
    const bool allowed = IsAlnum(static_cast<char>(c)) || c == ' ' || c == ',' || c == '.' ||
                         c == '/' || c == '-' || c >= 0x80;
    if (!allowed) break;
    ++stop;
    if (IsDigit(text[stop - 1]) || text.substr(begin, stop - begin).ends_with("日") ||
        text.substr(begin, stop - begin).ends_with("号")) {
      if (!IsDigit(ByteAt(text, stop)) && ParseDate(text.substr(begin, stop - begin))) {
        best = stop;
      }
    }
  }
  return best;
}

class DateOfBirthDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kDateTime; }

  std::vector<Pattern> patterns() const override {
    std::vector<Pattern> patterns;
    for (std::string_view word : kBirthWords) patterns.push_back({LiteralPattern(word), true});
    return patterns;
  }

  ContextWords context() const override { return {}; }

  size_t Examine(std::string_view text, size_t pattern, size_t end,
                 std::vector<Candidate>* out) const override {
    const std::string_view word = kBirthWords[pattern];
    const size_t word_begin = end - word.size();
    if (IsAsciiWordWithLetters(word) &&
        (IsAlpha(ByteBefore(text, word_begin)) || IsAlpha(ByteAt(text, end)))) {
      // Not a whole word ("reborn"); "birthday"/"birthdate" are their own words.
      return end;
    }
    const size_t limit = std::min(text.size(), end + kWindow);
    for (size_t pos = end; pos < limit; ++pos) {
      const char c = text[pos];
      if (!IsAlnum(c) || IsAlnum(ByteBefore(text, pos))) continue;
      const size_t stop = DateEnd(text, pos);
      if (stop == 0) continue;
      out->push_back({type(), static_cast<uint32_t>(pos), static_cast<uint32_t>(stop), 0.9f});
      return stop;
    }
    return end;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeDateOfBirthDetector() {
  return std::make_unique<DateOfBirthDetector>();
}

}  // namespace mg::privacy
