// Window arithmetic against the C library's calendar (timegm/gmtime_r).
#include "store/limits.h"

#include <gtest/gtest.h>

#include <ctime>

namespace mg::store {
namespace {

int64_t Timegm(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

TEST(StoreLimitsTest, PeriodsMatchTheCalendar) {
  // Every day from 1999 to 2041, at 13:37:11.
  for (int64_t day = Timegm(1999, 1, 1); day < Timegm(2041, 1, 1); day += kDayMs) {
    const int64_t now = day + 13 * 3600'000 + 37 * 60'000 + 11'000;
    const time_t seconds = static_cast<time_t>(now / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    const int year = tm.tm_year + 1900, month = tm.tm_mon + 1;
    ASSERT_EQ(PeriodStart("month", now), Timegm(year, month, 1));
    ASSERT_EQ(PeriodEnd("month", now),
              month == 12 ? Timegm(year + 1, 1, 1) : Timegm(year, month + 1, 1));
    ASSERT_EQ(PeriodStart("day", now), day);
    ASSERT_EQ(PeriodEnd("day", now), day + kDayMs);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(FormatUtc(now), text);
    int64_t parsed = 0;
    ASSERT_TRUE(ParseUtc(text, &parsed));
    ASSERT_EQ(parsed, now);
  }
}

TEST(StoreLimitsTest, ParseRejectsNonsense) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseUtc("2026-02-28", &ms));
  EXPECT_EQ(ms, Timegm(2026, 2, 28));
  for (const char* bad : {"", "2026", "2026-02-30", "2026-13-01", "26-01-01", "2026-01-01T10:00:00",
                          "2026-01-01 junk", "'; DROP TABLE x; --", "2026-01-01T25:00:00Z"}) {
    EXPECT_FALSE(ParseUtc(bad, &ms)) << bad;
  }
}

TEST(StoreLimitsTest, CostRoundsUpAndRetryIsAtLeastOneSecond) {
  EXPECT_EQ(CostMicroUsd(0, 20'000), 0);
  EXPECT_EQ(CostMicroUsd(1, 20'000), 20);
  EXPECT_EQ(CostMicroUsd(1, 1), 1);
  EXPECT_EQ(CostMicroUsd(1500, 1'000'000), 1'500'000);
  EXPECT_EQ(CostMicroUsd(100, 0), 0);
  EXPECT_EQ(RetryAfterSeconds(1000, 1000), 1);
  EXPECT_EQ(RetryAfterSeconds(0, 1001), 2);
  EXPECT_EQ(MinuteStart(125'000), 120'000);
  EXPECT_EQ(HourStart(kHourMs * 5 + 1), kHourMs * 5);
}

}  // namespace
}  // namespace mg::store
