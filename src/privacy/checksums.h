// Check-digit algorithms of the identifiers the detectors validate:
//   Luhn (payment cards), ISO 13616 / ISO 7064 MOD 97-10 (IBAN),
//   GB 11643-1999 / ISO 7064 MOD 11-2 (Chinese resident identity numbers),
//   GB 32100-2015 (unified social credit codes), and calendar dates.
//
// Pure functions on ASCII input; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mg::privacy {

// True when `digits` (ASCII digits only, at least 2) passes the Luhn check.
bool LuhnValid(std::string_view digits);

// The Luhn check digit ('0'..'9') to append to `payload` (ASCII digits).
char LuhnCheckDigit(std::string_view payload);

// The IBAN length registered for a two-letter country code (upper case), or 0
// for a country without IBANs.
size_t IbanLength(std::string_view country);

// The ISO 7064 MOD 97-10 remainder of an IBAN written compactly (no spaces;
// letters in either case): 1 for a valid IBAN. Returns -1 on a character
// that is not an ASCII letter or digit.
int IbanRemainder(std::string_view compact);

// True when `compact` has the registered length of its country and remainder 1.
bool IbanValid(std::string_view compact);

// The two check digits for an IBAN of `country` (upper case) and `bban`
// (letters upper case): the result is country + digits + bban.
std::string IbanCheckDigits(std::string_view country, std::string_view bban);

// GB 11643 check character ('0'..'9' or 'X') of the first 17 digits of a
// resident identity number.
char Gb11643CheckChar(std::string_view first17);

// The GB 32100 alphabet of unified social credit codes: digits and the upper
// case letters except I, O, Z, S and V (31 characters).
inline constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// Index of `c` in kUsccAlphabet, or -1.
int UsccCharValue(char c);

// GB 32100 check character of the first 17 characters of a unified social
// credit code, or '\0' when one of them is outside the alphabet.
char Gb32100CheckChar(std::string_view first17);

bool IsLeapYear(int year);

// Days in `month` (1..12) of `year`; 0 for a month out of range.
int DaysInMonth(int year, int month);

bool IsValidDate(int year, int month, int day);

}  // namespace mg::privacy
