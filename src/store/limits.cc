#include "store/limits.h"

#include <cstdio>
#include <string>

namespace mg::store {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

int64_t MinuteStart(int64_t now_ms) { return FloorDiv(now_ms, kMinuteMs) * kMinuteMs; }
int64_t HourStart(int64_t now_ms) { return FloorDiv(now_ms, kHourMs) * kHourMs; }

int64_t PeriodStart(std::string_view period, int64_t now_ms) {
  const int64_t day = FloorDiv(now_ms, kDayMs);
  if (period == "day") return day * kDayMs;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  return DaysFromCivil(y, m, 1) * kDayMs;
}

int64_t PeriodEnd(std::string_view period, int64_t now_ms) {
  const int64_t day = FloorDiv(now_ms, kDayMs);
  if (period == "day") return (day + 1) * kDayMs;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  return (m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1)) * kDayMs;
}

int64_t CostMicroUsd(int64_t tokens, int64_t micro_usd_per_1k) {
  if (tokens <= 0 || micro_usd_per_1k <= 0) return 0;
  return (tokens * micro_usd_per_1k + 999) / 1000;
}

int RetryAfterSeconds(int64_t now_ms, int64_t until_ms) {
  const int64_t seconds = (until_ms - now_ms + 999) / 1000;
  return seconds < 1 ? 1 : static_cast<int>(seconds);
}

std::string FormatUtc(int64_t ms) {
  const int64_t day = FloorDiv(ms, kDayMs);
  const int64_t in_day = ms - day * kDayMs;
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(in_day / 3600000),
                static_cast<long long>(in_day / 60000 % 60),
                static_cast<long long>(in_day / 1000 % 60));
  return buffer;
}

bool ParseUtc(std::string_view text, int64_t* ms) {
  int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0;
  char tail = 0;
  const std::string s(text);
  int fields = 0;
  if (s.size() == 10) {
    fields = std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail);
    if (fields != 3) return false;
  } else {
    fields = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &m, &d, &hh, &mm, &ss, &tail);
    if (fields != 7 || tail != 'Z' || s.size() != 20) return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 ||
      ss < 0 || y < 1970) {
    return false;
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  int64_t check_y;
  unsigned check_m, check_d;
  CivilFromDays(days, &check_y, &check_m, &check_d);
  if (check_d != static_cast<unsigned>(d)) return false;  // 2026-02-30
  *ms = days * kDayMs + (hh * 3600LL + mm * 60LL + ss) * 1000LL;
  return true;
}

}  // namespace mg::store
