// Utf8SequenceLength: the one check of a single UTF-8 sequence shared by the
// JSON writer and the flat JSON reader; Utf8LeadLength: the length of a
// character of text already known to be valid (the tokenizers' inner loops).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>

namespace mg {

// Length of the well-formed UTF-8 sequence at data[0..size) (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0. size >= 1.
inline size_t Utf8SequenceLength(const unsigned char* data, size_t size) {
  const unsigned char b0 = data[0];
  auto cont = [&](size_t i) { return i < size && (data[i] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && data[1] < 0xA0) return 0;   // overlong
    if (b0 == 0xED && data[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && data[1] < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && data[1] >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Length of the character whose first byte is `lead`, in valid UTF-8.
inline size_t Utf8LeadLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

}  // namespace mg
