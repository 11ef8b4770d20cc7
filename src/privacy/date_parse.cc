#include "privacy/date_parse.h"

#include <string>

#include "privacy/chars.h"
#include "privacy/checksums.h"

namespace mg::privacy {
namespace {

constexpr std::string_view kMonths[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};

// Reads 1..max_digits digits at s[*pos]; -1 when there are none or more.
int ReadNumber(std::string_view s, size_t* pos, size_t max_digits, DatePart* part) {
  const size_t start = *pos;
  int value = 0;
  while (*pos < s.size() && IsDigit(s[*pos])) {
    if (*pos - start < max_digits) value = value * 10 + (s[*pos] - '0');
    ++*pos;
  }
  const size_t count = *pos - start;
  if (count == 0 || count > max_digits) return -1;
  *part = {start, count};
  return value;
}

int FullYear(int year, size_t digits) {
  if (digits == 4) return year;
  if (digits == 2) return year < 30 ? 2000 + year : 1900 + year;
  return -1;
}

std::optional<ParsedDate> Finish(ParsedDate date) {
  if (date.year < 1900 || date.year > 2099) return std::nullopt;
  if (!IsValidDate(date.year, date.month, date.day)) return std::nullopt;
  return date;
}

std::optional<ParsedDate> ParseNumeric(std::string_view s) {
  ParsedDate date;
  DatePart parts[3];
  int values[3];
  size_t pos = 0;
  char separator = 0;
  for (int index = 0; index < 3; ++index) {
    values[index] = ReadNumber(s, &pos, 4, &parts[index]);
    if (values[index] < 0) return std::nullopt;
    if (index == 2) break;
    if (pos >= s.size()) return std::nullopt;
    const char c = s[pos];
    if ((c != '-' && c != '/' && c != '.') || (separator != 0 && c != separator)) {
      return std::nullopt;
    }
    separator = c;
    ++pos;
  }
  if (pos != s.size()) return std::nullopt;
  if (parts[0].size == 4) {  // year first
    if (parts[1].size > 2 || parts[2].size > 2) return std::nullopt;
    date.year = values[0];
    date.month = values[1];
    date.day = values[2];
    date.year_part = parts[0];
    date.month_part = parts[1];
    date.day_part = parts[2];
    return Finish(date);
  }
  if (parts[0].size > 2 || parts[1].size > 2) return std::nullopt;
  date.year = FullYear(values[2], parts[2].size);
  date.year_part = parts[2];
  // Day first (most of the world), else month first (US).
  for (bool day_first : {true, false}) {
    date.day = day_first ? values[0] : values[1];
    date.month = day_first ? values[1] : values[0];
    date.day_part = day_first ? parts[0] : parts[1];
    date.month_part = day_first ? parts[1] : parts[0];
    if (auto valid = Finish(date)) return valid;
  }
  return std::nullopt;
}

// Reads a month name (letters, optional '.') at s[*pos].
int ReadMonth(std::string_view s, size_t* pos, DatePart* part) {
  const size_t start = *pos;
  while (*pos < s.size() && IsAlpha(s[*pos])) ++*pos;
  const int month = MonthFromName(s.substr(start, *pos - start));
  *part = {start, *pos - start};
  if (month > 0 && *pos < s.size() && s[*pos] == '.') ++*pos;
  return month;
}

void SkipOrdinal(std::string_view s, size_t* pos) {
  const std::string_view rest = s.substr(*pos, 2);
  if (rest == "st" || rest == "nd" || rest == "rd" || rest == "th") *pos += 2;
}

bool Skip(std::string_view s, size_t* pos, std::string_view what) {
  if (s.substr(*pos, what.size()) != what) return false;
  *pos += what.size();
  return true;
}

std::optional<ParsedDate> ParseEnglish(std::string_view s) {
  ParsedDate date;
  date.month_is_name = true;
  size_t pos = 0;
  if (IsAlpha(s[0])) {  // March 3, 1985
    date.month = ReadMonth(s, &pos, &date.month_part);
    if (date.month == 0 || !Skip(s, &pos, " ")) return std::nullopt;
    date.day = ReadNumber(s, &pos, 2, &date.day_part);
    SkipOrdinal(s, &pos);
    Skip(s, &pos, ",");
  } else {  // 3 March 1985, 3rd of March, 1985
    date.day = ReadNumber(s, &pos, 2, &date.day_part);
    SkipOrdinal(s, &pos);
    if (!Skip(s, &pos, " ")) return std::nullopt;
    Skip(s, &pos, "of ");
    date.month = ReadMonth(s, &pos, &date.month_part);
    if (date.month == 0) return std::nullopt;
    Skip(s, &pos, ",");
  }
  if (!Skip(s, &pos, " ")) return std::nullopt;
  const int year = ReadNumber(s, &pos, 4, &date.year_part);
  if (year < 0 || date.year_part.size != 4 || pos != s.size()) return std::nullopt;
  date.year = year;
  return Finish(date);
}

std::optional<ParsedDate> ParseChinese(std::string_view s) {
  static constexpr std::string_view kYear = "年", kMonth = "月", kDay = "日", kDayAlt = "号";
  ParsedDate date;
  size_t pos = 0;
  const int year = ReadNumber(s, &pos, 4, &date.year_part);
  if (year < 0 || !Skip(s, &pos, kYear)) return std::nullopt;
  date.year = FullYear(year, date.year_part.size);
  date.month = ReadNumber(s, &pos, 2, &date.month_part);
  if (!Skip(s, &pos, kMonth)) return std::nullopt;
  date.day = ReadNumber(s, &pos, 2, &date.day_part);
  if (!Skip(s, &pos, kDay) && !Skip(s, &pos, kDayAlt)) return std::nullopt;
  if (pos != s.size()) return std::nullopt;
  return Finish(date);
}

}  // namespace

int MonthFromName(std::string_view word) {
  if (word.size() < 3 || word.size() > 9) return 0;
  std::string lower;
  for (char c : word) lower.push_back(ToLower(c));
  for (int month = 1; month <= 12; ++month) {
    const std::string_view full = kMonths[month - 1];
    if (lower == full || lower == full.substr(0, 3) || (month == 9 && lower == "sept")) {
      return month;
    }
  }
  return 0;
}

std::string_view MonthName(int month, bool full) {
  static constexpr std::string_view kNames[] = {"January",   "February", "March",    "April",
                                                "May",       "June",     "July",     "August",
                                                "September", "October",  "November", "December"};
  const std::string_view name = kNames[(month - 1) % 12];
  return full ? name : name.substr(0, 3);
}

std::optional<ParsedDate> ParseDate(std::string_view s) {
  if (s.empty() || s.size() > 40) return std::nullopt;
  if (s.find("年") != std::string_view::npos) return ParseChinese(s);
  if (IsAlpha(s[0]) || s.find_first_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
                           std::string_view::npos) {
    return ParseEnglish(s);
  }
  return ParseNumeric(s);
}

}  // namespace mg::privacy
