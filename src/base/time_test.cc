// The parser and formatter against known values and against the C
// library's calendar (timegm/gmtime_r), an independent implementation.
#include "base/time.h"

#include <gtest/gtest.h>

#include <ctime>

namespace mg {
namespace {

using namespace std::chrono_literals;

int64_t Timegm(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

int64_t Seconds(std::chrono::sys_seconds time) { return time.time_since_epoch().count(); }

TEST(TimeTest, ParsesKnownDatesAndTimes) {
  EXPECT_EQ(ParseUtcDate("1970-01-01")->time_since_epoch().count(), 0);
  EXPECT_EQ(ParseUtcDate("1970-01-02")->time_since_epoch().count(), 1);
  EXPECT_EQ(ParseUtcDate("2000-03-01")->time_since_epoch().count(), 11017);
  EXPECT_EQ(ParseUtcDate("2024-02-29")->time_since_epoch().count(), 19782);
  EXPECT_EQ(Seconds(*ParseUtcDateTime("2026-11-28T15:04:05Z")), 1795878245);
  EXPECT_EQ(Seconds(*ParseUtcDateTime("1969-12-31T23:59:59Z")), -1);
  // A leap second is the first second of the next minute.
  EXPECT_EQ(Seconds(*ParseUtcDateTime("2016-12-31T23:59:60Z")), Timegm(2017, 1, 1));
}

TEST(TimeTest, RejectsWhatIsNotACalendarDayOrStrictForm) {
  for (const char* bad : {"",
                          "2026",
                          "2026-02-30",
                          "2023-02-29",
                          "1900-02-29",
                          "2026-13-01",
                          "2026-00-10",
                          "2026-01-00",
                          "2026-04-31",
                          "26-01-01",
                          "2026-1-01",
                          "2026-01-1",
                          "2026- 1-01",
                          "2026-+1-01",
                          "+2026-01-01",
                          "-026-01-01",
                          "12026-01-01",
                          "2026-01-01 ",
                          " 2026-01-01",
                          "2026/01/01",
                          "2026-01-01junk",
                          "2026-01-01T00:00:00Z",
                          "'; DROP TABLE x; --"}) {
    EXPECT_FALSE(ParseUtcDate(bad).ok()) << bad;
  }
  for (const char* bad :
       {"", "2026-01-01", "2026-01-01T10:00:00", "2026-01-01T25:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T10:60:00Z", "2026-01-01T10:00:61Z", "2026-01-01 10:00:00Z",
        "2026-01-01t10:00:00z", "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00.000Z",
        "2026-02-30T10:00:00Z", "2026-01-01T1:00:00Z", "2026-01-01T10:00:00Zjunk",
        "12026-01-01T10:00:00Z", "2026-01-01T-1:00:00Z"}) {
    EXPECT_FALSE(ParseUtcDateTime(bad).ok()) << bad;
  }
  const Status bad = ParseUtcDate("2026-02-30").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("2026-02-30"), std::string::npos) << bad.message();
}

TEST(TimeTest, FormatsKnownValues) {
  EXPECT_EQ(FormatUtcDateTime(std::chrono::sys_seconds(0s)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtcDateTime(std::chrono::sys_days(2026y / 3 / 4) + 3723s),
            "2026-03-04T01:02:03Z");
  EXPECT_EQ(FormatUtcDateTime(std::chrono::sys_seconds(-1s)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatUtcDate(std::chrono::sys_days(2024y / 2 / 29)), "2024-02-29");
  EXPECT_EQ(FormatUtcMillis(SysMillis(1795878245042ms)), "2026-11-28T15:04:05.042Z");
  EXPECT_EQ(FormatUtcMillis(SysMillis(-1ms)), "1969-12-31T23:59:59.999Z");
}

TEST(TimeTest, MonthsAndDaysMatchTheCLibraryCalendar) {
  // Every day from 1999 to 2041, at 13:37:11.250.
  for (int64_t day = Timegm(1999, 1, 1); day < Timegm(2041, 1, 1); day += 86400) {
    const int64_t seconds = day + 13 * 3600 + 37 * 60 + 11;
    const time_t as_time_t = static_cast<time_t>(seconds);
    std::tm tm{};
    gmtime_r(&as_time_t, &tm);
    const int year = tm.tm_year + 1900, month = tm.tm_mon + 1;
    const SysMillis now{std::chrono::milliseconds(seconds * 1000 + 250)};
    const std::chrono::sys_days today = DayOf(now);
    ASSERT_EQ(today.time_since_epoch().count() * 86400, day);
    ASSERT_EQ(std::chrono::sys_seconds(FirstOfMonth(today)).time_since_epoch().count(),
              Timegm(year, month, 1));
    ASSERT_EQ(std::chrono::sys_seconds(FirstOfNextMonth(today)).time_since_epoch().count(),
              month == 12 ? Timegm(year + 1, 1, 1) : Timegm(year, month + 1, 1));
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(FormatUtcDateTime(std::chrono::floor<std::chrono::seconds>(now)), text);
    ASSERT_EQ(Seconds(*ParseUtcDateTime(text)), seconds);
    std::strftime(text, sizeof(text), "%Y-%m-%d", &tm);
    ASSERT_EQ(FormatUtcDate(today), text);
    ASSERT_EQ(*ParseUtcDate(text), today);
  }
}

}  // namespace
}  // namespace mg
