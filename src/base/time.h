// UTC calendar dates and timestamps: one strict parser and one formatter for
// every text form the project reads or writes, and calendar arithmetic on
// <chrono> (year_month_day, sys_days) rather than hand-written civil-date code.
//
// Accepted forms, and nothing else (no spaces, signs, missing zeros, time
// zones other than "Z" or trailing characters):
//   date      "YYYY-MM-DD"            a real calendar day, year 0000..9999
//   date-time "YYYY-MM-DDTHH:MM:SSZ"  hours 00..23, minutes 00..59, seconds
//                                     00..60 (RFC 3339 leap second: :60 is
//                                     the first second of the next minute)
// Errors are InvalidArgument and quote the text.
//
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg {

using SysMillis = std::chrono::sys_time<std::chrono::milliseconds>;

// Midnight UTC of a strict "YYYY-MM-DD".
Result<std::chrono::sys_days> ParseUtcDate(std::string_view text);
// A strict "YYYY-MM-DDTHH:MM:SSZ".
Result<std::chrono::sys_seconds> ParseUtcDateTime(std::string_view text);

// "YYYY-MM-DD".
std::string FormatUtcDate(std::chrono::sys_days day);
// "YYYY-MM-DDTHH:MM:SSZ" (any fraction of a second is dropped, rounding
// towards the past).
std::string FormatUtcDateTime(std::chrono::sys_seconds time);
// "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatUtcMillis(SysMillis time);

// The UTC day holding `time`, and the first day of its month and of the next.
std::chrono::sys_days DayOf(SysMillis time);
std::chrono::sys_days FirstOfMonth(std::chrono::sys_days day);
std::chrono::sys_days FirstOfNextMonth(std::chrono::sys_days day);

}  // namespace mg
