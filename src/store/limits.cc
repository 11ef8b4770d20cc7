#include "store/limits.h"

#include <optional>
#include <string>

#include "base/time.h"

namespace mg::store {
namespace {

SysMillis At(int64_t ms) { return SysMillis(std::chrono::milliseconds(ms)); }

int64_t StartMs(std::chrono::sys_days day) { return day.time_since_epoch().count() * kDayMs; }

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

int64_t MinuteStart(int64_t now_ms) { return FloorDiv(now_ms, kMinuteMs) * kMinuteMs; }
int64_t HourStart(int64_t now_ms) { return FloorDiv(now_ms, kHourMs) * kHourMs; }

int64_t PeriodStart(std::string_view period, int64_t now_ms) {
  const std::chrono::sys_days day = DayOf(At(now_ms));
  return StartMs(period == "day" ? day : FirstOfMonth(day));
}

int64_t PeriodEnd(std::string_view period, int64_t now_ms) {
  const std::chrono::sys_days day = DayOf(At(now_ms));
  return StartMs(period == "day" ? day + std::chrono::days(1) : FirstOfNextMonth(day));
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
  return FormatUtcDateTime(std::chrono::floor<std::chrono::seconds>(At(ms)));
}

bool ParseUtc(std::string_view text, int64_t* ms) {
  // "YYYY-MM-DD" alone is midnight.
  std::optional<std::chrono::sys_seconds> time;
  if (text.size() == 10) {
    if (Result<std::chrono::sys_days> day = ParseUtcDate(text); day.ok()) time = *day;
  } else if (Result<std::chrono::sys_seconds> seconds = ParseUtcDateTime(text); seconds.ok()) {
    time = *seconds;
  }
  if (!time || time->time_since_epoch().count() < 0) return false;  // none before 1970
  *ms = time->time_since_epoch().count() * 1000;
  return true;
}

}  // namespace mg::store
