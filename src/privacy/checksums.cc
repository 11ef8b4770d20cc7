#include "privacy/checksums.h"

#include <algorithm>
#include <array>

#include "privacy/chars.h"

namespace mg::privacy {
namespace {

struct IbanCountry {
  char code[3];
  unsigned char length;
};

// ISO 13616 IBAN registry: country code and IBAN length, sorted by code.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

// GB 11643 weights 2^(17 - i) mod 11 for positions i = 0..16.
constexpr std::array<int, 17> kGb11643Weights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                 3, 7, 9,  10, 5, 8, 4, 2};

// GB 32100 weights 3^i mod 31 for positions i = 0..16.
constexpr std::array<int, 17> kGb32100Weights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                 29, 25, 13, 8,  24, 10, 30, 28};

}  // namespace

bool LuhnValid(std::string_view digits) {
  if (digits.size() < 2) return false;
  int sum = 0;
  bool twice = false;
  for (size_t pos = digits.size(); pos-- > 0;) {
    if (!IsDigit(digits[pos])) return false;
    int value = digits[pos] - '0';
    if (twice) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    twice = !twice;
  }
  return sum % 10 == 0;
}

char LuhnCheckDigit(std::string_view payload) {
  int sum = 0;
  bool twice = true;  // the check digit itself is not doubled
  for (size_t pos = payload.size(); pos-- > 0;) {
    int value = payload[pos] - '0';
    if (twice) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

size_t IbanLength(std::string_view country) {
  if (country.size() != 2) return 0;
  const auto* end = std::end(kIbanCountries);
  const auto* it = std::lower_bound(std::begin(kIbanCountries), end, country,
                                    [](const IbanCountry& entry, std::string_view code) {
                                      return std::string_view(entry.code) < code;
                                    });
  return it != end && std::string_view(it->code) == country ? it->length : 0;
}

int IbanRemainder(std::string_view compact) {
  if (compact.size() < 5) return -1;
  // Move the first four characters to the end; letters count as 10..35.
  int remainder = 0;
  for (size_t step = 0; step < compact.size(); ++step) {
    const char c = compact[(step + 4) % compact.size()];
    if (IsDigit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (IsAlpha(c)) {
      remainder = (remainder * 100 + (ToUpper(c) - 'A' + 10)) % 97;
    } else {
      return -1;
    }
  }
  return remainder;
}

bool IbanValid(std::string_view compact) {
  if (compact.size() < 5) return false;
  const std::string country{ToUpper(compact[0]), ToUpper(compact[1])};
  if (!IsAlpha(compact[0]) || !IsAlpha(compact[1]) || !IsDigit(compact[2]) ||
      !IsDigit(compact[3])) {
    return false;
  }
  return IbanLength(country) == compact.size() && IbanRemainder(compact) == 1;
}

std::string IbanCheckDigits(std::string_view country, std::string_view bban) {
  const std::string probe = std::string(country) + "00" + std::string(bban);
  const int check = 98 - IbanRemainder(probe);
  return {static_cast<char>('0' + check / 10), static_cast<char>('0' + check % 10)};
}

char Gb11643CheckChar(std::string_view first17) {
  int sum = 0;
  for (size_t pos = 0; pos < kGb11643Weights.size() && pos < first17.size(); ++pos) {
    sum += (first17[pos] - '0') * kGb11643Weights[pos];
  }
  const int check = (12 - sum % 11) % 11;
  return check == 10 ? 'X' : static_cast<char>('0' + check);
}

int UsccCharValue(char c) {
  static const std::array<int8_t, 256> kValues = [] {
    std::array<int8_t, 256> values;
    values.fill(-1);
    for (size_t index = 0; index < kUsccAlphabet.size(); ++index) {
      values[static_cast<unsigned char>(kUsccAlphabet[index])] = static_cast<int8_t>(index);
    }
    return values;
  }();
  return kValues[static_cast<unsigned char>(c)];
}

char Gb32100CheckChar(std::string_view first17) {
  if (first17.size() < kGb32100Weights.size()) return '\0';
  int sum = 0;
  for (size_t pos = 0; pos < kGb32100Weights.size(); ++pos) {
    const int value = UsccCharValue(first17[pos]);
    if (value < 0) return '\0';
    sum += value * kGb32100Weights[pos];
  }
  const int check = (31 - sum % 31) % 31;
  return kUsccAlphabet[check];
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsValidDate(int year, int month, int day) {
  return day >= 1 && day <= DaysInMonth(year, month);
}

}  // namespace mg::privacy
