#include "text/byte_level.h"

#include <utf8proc.h>

#include <array>
#include <string>

#include "text/unicode.h"

namespace mg::text {
namespace {

enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

CharClass Classify(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumber;
    if (cp == ' ' || (cp >= '\t' && cp <= '\r')) return CharClass::kSpace;
    return CharClass::kOther;
  }
  if (CharFlags(cp) & kWhitespace) return CharClass::kSpace;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumber;
    default:
      return CharClass::kOther;
  }
}

// Reads the character at `pos`; the text is valid UTF-8.
struct Char {
  CharClass cls;
  uint32_t length;
};

Char CharAt(std::string_view text, size_t pos, size_t end) {
  const auto byte = static_cast<uint8_t>(text[pos]);
  if (byte < 0x80) return {Classify(byte), 1};
  size_t length = 0;
  char32_t cp = DecodeUtf8(reinterpret_cast<const uint8_t*>(text.data()) + pos, end - pos, &length);
  if (cp == kInvalidCodePoint) return {CharClass::kOther, 1};
  return {Classify(cp), static_cast<uint32_t>(length)};
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at `pos`, or 0.
size_t ContractionAt(std::string_view text, size_t pos, size_t end) {
  if (text[pos] != '\'' || pos + 1 >= end) return 0;
  const char c1 = text[pos + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= end) return 0;
  const char c2 = text[pos + 2];
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

std::array<std::string, 256> BuildByteChars() {
  std::array<std::string, 256> chars;
  char32_t next = 256;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable =
        (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
    const char32_t cp = printable ? static_cast<char32_t>(byte) : next++;
    uint8_t utf8[4];
    const size_t n = EncodeUtf8(cp, utf8);
    chars[byte].assign(reinterpret_cast<const char*>(utf8), n);
  }
  return chars;
}

}  // namespace

std::string_view ByteLevelChar(uint8_t byte) {
  static const std::array<std::string, 256> kChars = BuildByteChars();
  return kChars[byte];
}

void Gpt2PreTokenize(std::string_view text, size_t begin, size_t end,
                     std::vector<WordSpan>* words) {
  size_t pos = begin;
  while (pos < end) {
    const size_t start = pos;
    if (size_t length = ContractionAt(text, pos, end)) {
      words->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(pos + length)});
      pos += length;
      continue;
    }
    Char first = CharAt(text, pos, end);
    size_t run_start = pos;
    CharClass cls = first.cls;
    if (text[pos] == ' ' && pos + 1 < end) {
      // " ?X+": a single space joins a following letter, number or other run.
      Char next = CharAt(text, pos + 1, end);
      if (next.cls != CharClass::kSpace) {
        run_start = pos + 1;
        cls = next.cls;
      }
    }
    if (cls != CharClass::kSpace) {
      pos = run_start;
      while (pos < end) {
        Char c = CharAt(text, pos, end);
        if (c.cls != cls) break;
        pos += c.length;
      }
      words->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(pos)});
      continue;
    }
    // Whitespace: "\s+(?!\S)" keeps the last space for the next word when a
    // non-space follows a run of two or more; else "\s+" takes the run.
    size_t last_length = 0;
    size_t count = 0;
    while (pos < end) {
      Char c = CharAt(text, pos, end);
      if (c.cls != CharClass::kSpace) break;
      pos += c.length;
      last_length = c.length;
      ++count;
    }
    if (pos < end && count >= 2) pos -= last_length;
    words->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(pos)});
  }
}

}  // namespace mg::text
