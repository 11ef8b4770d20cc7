// Byte classes used by the detectors. The detectors run on normalised text
// (normalizer.h) in which every character that matters to a pattern is ASCII;
// bytes >= 0x80 belong to other scripts and count as separators.
//
// Stateless inline functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mg::privacy {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
inline bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
inline bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
inline bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool IsBase64UrlChar(char c) { return IsAlnum(c) || c == '-' || c == '_'; }
inline char ToUpper(char c) { return IsLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
inline char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// The byte at `pos`, or '\0' outside the text: lets boundary checks read one
// byte before the start or after the end without bounds tests.
inline char ByteAt(std::string_view text, size_t pos) {
  return pos < text.size() ? text[pos] : '\0';
}
inline char ByteBefore(std::string_view text, size_t pos) {
  return pos > 0 && pos <= text.size() ? text[pos - 1] : '\0';
}

// Number of ASCII digits in `s`.
inline size_t CountDigits(std::string_view s) {
  size_t count = 0;
  for (char c : s) count += IsDigit(c) ? 1 : 0;
  return count;
}

// `s` with only its ASCII digits.
inline std::string DigitsOf(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (IsDigit(c)) digits.push_back(c);
  }
  return digits;
}

}  // namespace mg::privacy
