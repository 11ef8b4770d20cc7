#include "base/time.h"

#include <cstdio>

namespace mg {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

// The decimal value of text[begin, begin + count), or -1 unless all digits.
int Digits(std::string_view text, size_t begin, size_t count) {
  int value = 0;
  for (size_t c = begin; c < begin + count; ++c) {
    if (text[c] < '0' || text[c] > '9') return -1;
    value = value * 10 + (text[c] - '0');
  }
  return value;
}

Status BadForm(std::string_view text, const char* form) {
  std::string message = "'";
  message.append(text).append("' is not a UTC ").append(form);
  return InvalidArgumentError(std::move(message));
}

// The date in the first 10 characters of `text`, checked to exist.
Result<sys_days> DatePart(std::string_view text, const char* form) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return BadForm(text, form);
  const int y = Digits(text, 0, 4), m = Digits(text, 5, 2), d = Digits(text, 8, 2);
  if (y < 0 || m < 0 || d < 0) return BadForm(text, form);
  const year_month_day date{year(y), month(static_cast<unsigned>(m)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) return InvalidArgumentError("no such date: " + std::string(text.substr(0, 10)));
  return sys_days(date);
}

}  // namespace

Result<sys_days> ParseUtcDate(std::string_view text) {
  if (text.size() != 10) return BadForm(text, "date (YYYY-MM-DD)");
  return DatePart(text, "date (YYYY-MM-DD)");
}

Result<std::chrono::sys_seconds> ParseUtcDateTime(std::string_view text) {
  constexpr char kForm[] = "date-time (YYYY-MM-DDTHH:MM:SSZ)";
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return BadForm(text, kForm);
  }
  MG_ASSIGN_OR_RETURN(sys_days date, DatePart(text, kForm));
  const int hh = Digits(text, 11, 2), mm = Digits(text, 14, 2), ss = Digits(text, 17, 2);
  if (hh < 0 || mm < 0 || ss < 0 || hh > 23 || mm > 59 || ss > 60) return BadForm(text, kForm);
  return std::chrono::sys_seconds(date) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}

std::string FormatUtcDate(sys_days when) {
  const year_month_day date(when);
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::string FormatUtcDateTime(std::chrono::sys_seconds time) {
  return FormatUtcMillis(SysMillis(time)).erase(19, 4);  // drops ".mmm"
}

std::string FormatUtcMillis(SysMillis time) {
  const sys_days days = std::chrono::floor<std::chrono::days>(time);
  const year_month_day date(days);
  const std::chrono::hh_mm_ss clock(time - days);
  char text[48];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

sys_days DayOf(SysMillis time) { return std::chrono::floor<std::chrono::days>(time); }

sys_days FirstOfMonth(sys_days when) {
  const year_month_day date(when);
  return sys_days(date.year() / date.month() / 1);
}

sys_days FirstOfNextMonth(sys_days when) {
  const year_month_day date(when);
  return sys_days((date.year() / date.month() + std::chrono::months(1)) / 1);
}

}  // namespace mg
