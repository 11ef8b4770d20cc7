// Mainland-China resident identity numbers (GB 11643-1999): six-digit
// administrative division code with a valid province prefix, birth date
// YYYYMMDD (a real calendar date, 1900..2099), three-digit sequence and the
// ISO 7064 MOD 11-2 check character (0..9 or X, either case). Written compact
// (then it may stand next to other numbers) or as a token of groups of any
// size separated by single spaces or dashes ("110105 19491231 002X",
// "1101 0519 4912 3100 2X", one character at a time).
#include <string>

#include "privacy/checksums.h"
#include "privacy/detectors.h"
#include "privacy/number_token.h"

namespace mg::privacy {
namespace {

bool ValidProvince(int code) {
  return (code >= 11 && code <= 15) || (code >= 21 && code <= 23) || (code >= 31 && code <= 37) ||
         (code >= 41 && code <= 46) || (code >= 50 && code <= 54) || (code >= 61 && code <= 65) ||
         code == 71 || code == 81 || code == 82 || code == 83;
}

int Number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// True when `id` (18 characters, upper case) is a valid resident number.
bool ValidResidentId(const std::string& id) {
  for (size_t pos = 0; pos < 17; ++pos) {
    if (!IsDigit(id[pos])) return false;
  }
  if (!ValidProvince(Number(id.substr(0, 2)))) return false;
  const int year = Number(id.substr(6, 4));
  if (year < 1900 || year > 2099) return false;
  if (!IsValidDate(year, Number(id.substr(10, 2)), Number(id.substr(12, 2)))) return false;
  return Gb11643CheckChar(id.substr(0, 17)) == id[17];
}

class CnResidentIdDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kCnResidentId; }

  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {{"身份证", "身份证号", "身份证号码", "公民身份号码", "居民身份证", "证件号",
             "resident id", "identity card", "id card", "id no", "id number"},
            {},
            0.1f,
            0};
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    DigitGroups groups;
    ReadDigitGroups(text, end, " -", true, &groups);
    const size_t stop = groups.back().end;
    const auto size = [&](size_t index) { return groups[index].end - groups[index].begin; };
    size_t characters = 0;
    for (size_t g = 0; g < groups.size(); ++g) characters += size(g);
    for (size_t g = 0; g < groups.size(); ++g) {
      size_t last = g;
      if (size(g) == 18) {
        last = g;  // compact: may sit next to other numbers
      } else if (groups.size() > 1 && g == 0 && characters == 18) {
        last = groups.size() - 1;  // grouped: must be the whole token
      } else {
        continue;
      }
      const size_t begin = groups[g].begin;
      const size_t finish = groups[last].end;
      if (IsWordChar(ByteBefore(text, begin)) || IsWordChar(ByteAt(text, finish))) continue;
      std::string id;
      for (char c : text.substr(begin, finish - begin)) {
        if (c != ' ' && c != '-') id.push_back(ToUpper(c));
      }
      if (!ValidResidentId(id)) continue;
      out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(finish), 0.9f});
      return stop;
    }
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeCnResidentIdDetector() {
  return std::make_unique<CnResidentIdDetector>();
}

}  // namespace mg::privacy
