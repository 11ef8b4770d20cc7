// Calendar dates as people write them, for the date-of-birth detector and
// for pseudonymisation (which rewrites the parts of a date in place):
//   numeric   1985-03-12, 12/03/1985, 3.12.85 (day-first or month-first)
//   English   March 3, 1985; Mar. 3rd 1985; 3 March 1985; 3rd of Mar 1985
//   Chinese   1985年3月12日 (日 or 号)
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace mg::privacy {

struct DatePart {
  size_t begin = 0;  // byte offset in the parsed string
  size_t size = 0;
};

struct ParsedDate {
  int year = 0;  // four-digit year (two-digit years are read as 19xx/20xx)
  int month = 0;
  int day = 0;
  DatePart year_part;
  DatePart month_part;
  DatePart day_part;
  bool month_is_name = false;
};

// Parses the whole of `s` as one date; nullopt unless it is a real calendar
// date with a year in 1900..2099.
std::optional<ParsedDate> ParseDate(std::string_view s);

// The month (1..12) that `word` names ("mar", "March", "sept."), or 0.
int MonthFromName(std::string_view word);

// English month name: full ("March") or three-letter ("Mar").
std::string_view MonthName(int month, bool full);

}  // namespace mg::privacy
