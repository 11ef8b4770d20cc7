// US Social Security numbers: AAA-GG-SSSS (or with spaces, or compact) where
// the area is not 000, 666 or 900..999, the group is not 00, the serial is
// not 0000, the digits are not all the same, and the number is not one of
// the well-known advertising/sample numbers. A run of groups such as
// "555 460-89-9847" is searched for an SSN-shaped part that is not itself
// joined to more groups by the same separator.
#include <string>

#include "privacy/detectors.h"
#include "privacy/number_token.h"

namespace mg::privacy {
namespace {

bool ValidSsnDigits(std::string_view d) {
  const int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
  if (area == 0 || area == 666 || area >= 900) return false;
  if (d.substr(3, 2) == "00" || d.substr(5, 4) == "0000") return false;
  if (d.find_first_not_of(d[0]) == std::string_view::npos) return false;
  return d != "123456789" && d != "078051120" && d != "219099999";
}

class UsSsnDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kUsSsn; }

  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {
        {"ssn", "ssns", "social security", "social-security", "ss#", "ss #", "soc sec", "taxpayer"},
        {},
        0.4f,
        0};
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    DigitGroups groups;
    ReadDigitGroups(text, end, "- ", false, &groups);
    const size_t stop = groups.back().end;
    if (IsWordChar(ByteBefore(text, groups.front().begin)) || IsWordChar(ByteAt(text, stop))) {
      return stop;
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      float score = 0;
      size_t last = g;
      const auto size = [&](size_t index) { return groups[index].end - groups[index].begin; };
      if (size(g) == 9) {
        score = 0.15f;
      } else if (g + 2 < groups.size() && size(g) == 3 && size(g + 1) == 2 && size(g + 2) == 4 &&
                 groups[g + 1].separator_before == groups[g + 2].separator_before) {
        last = g + 2;
        const char separator = groups[g + 1].separator_before;
        // Not joined by the same separator to a group before or after.
        if (groups[g].separator_before == separator) continue;
        if (last + 1 < groups.size() && groups[last + 1].separator_before == separator) continue;
        score = separator == '-' ? 0.55f : 0.4f;
      } else {
        continue;
      }
      const size_t begin = groups[g].begin;
      const size_t finish = groups[last].end;
      if (!ValidSsnDigits(DigitsOf(text.substr(begin, finish - begin)))) continue;
      out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(finish), score});
      return stop;
    }
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeUsSsnDetector() { return std::make_unique<UsSsnDetector>(); }

}  // namespace mg::privacy
