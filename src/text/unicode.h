// Unicode facts the BERT tokenizer needs: UTF-8 decoding and per-code-point
// character classes (whitespace, control, punctuation, CJK, non-spacing mark),
// lower-casing and canonical decomposition.
//
// The class table is built once, on first use, from utf8proc, and is then
// read-only: every function here is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mg::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// Decodes one code point from `data[0..size)` (size >= 1). Sets `*length` to
// the number of bytes consumed (>= 1). Returns kInvalidCodePoint for a byte
// that does not start a well-formed UTF-8 sequence (stray continuation byte,
// truncated or overlong sequence, encoded surrogate, value above U+10FFFF);
// then `*length` is 1.
char32_t DecodeUtf8(const uint8_t* data, size_t size, size_t* length);

// Appends the UTF-8 encoding of `cp` (a valid scalar value) to `out`;
// returns the number of bytes written (1..4). `out` must have room for 4.
size_t EncodeUtf8(char32_t cp, uint8_t* out);

// True when `data[0..size)` is well-formed UTF-8.
bool IsValidUtf8(const uint8_t* data, size_t size);

// Character classes, as bit flags.
enum CharFlag : uint8_t {
  kWhitespace = 1 << 0,   // Unicode White_Space, plus \t \n \r
  kControl = 1 << 1,      // removed by text cleaning: general category C*, NUL, U+FFFD (not \t\n\r)
  kPunctuation = 1 << 2,  // general category P*, plus every ASCII punctuation character
  kChinese = 1 << 3,      // CJK ideograph blocks that BERT isolates
  kNonspacingMark = 1 << 4,    // general category Mn, dropped when stripping accents
  kHasLowercase = 1 << 5,      // lower-casing changes the character
  kHasDecomposition = 1 << 6,  // canonical decomposition (NFD) changes the character
  kWordChar = 1 << 7,          // regex \w: letters, marks, decimal digits, connector punctuation
};

// Flags of `cp`; 0 for values outside the Unicode range.
uint8_t CharFlags(char32_t cp);

// Writes the full lower-case mapping of `cp` to `out` (room for 3) and returns
// how many code points it has (1, or 2 for U+0130).
size_t ToLower(char32_t cp, char32_t* out);

// Writes the full canonical decomposition of `cp` (NFD of the single
// character; Hangul syllables included) to `out` (room for 8) and returns its
// length (1 when `cp` has none).
size_t Decompose(char32_t cp, char32_t* out);

}  // namespace mg::text
