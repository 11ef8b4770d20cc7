#include "privacy/normalizer.h"

#include <utf8proc.h>

#include <cstring>

#include "text/unicode.h"

namespace mg::privacy {
namespace {

constexpr int kKeep = -1;
constexpr int kRemove = 0;

// ASCII control characters other than \t \n \r: the tokenizer removes them.
constexpr bool IsRemovedAscii(uint8_t byte) {
  return (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7F;
}

// True when every byte is printable ASCII, \t, \n or \r: nothing to change.
// Written without branches so that the compiler vectorises it.
bool NeedsNoChange(std::string_view input) {
  unsigned flagged = 0;
  for (char c : input) {
    const auto byte = static_cast<uint8_t>(c);
    flagged |= static_cast<unsigned>(byte >= 0x7F) |
               (static_cast<unsigned>(byte < 0x20) & static_cast<unsigned>(byte != '\t') &
                static_cast<unsigned>(byte != '\n') & static_cast<unsigned>(byte != '\r'));
  }
  return flagged == 0;
}

utf8proc_category_t Category(char32_t cp) {
  return static_cast<utf8proc_category_t>(
      utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->category);
}

// Default_Ignorable_Code_Point. utf8proc flags the assigned ones; the
// property also covers unassigned ranges reserved for future invisible
// characters (Other_Default_Ignorable_Code_Point in PropList.txt), which
// renderers already show as nothing.
bool IsDefaultIgnorable(char32_t cp, const utf8proc_property_t& property) {
  if (property.ignorable) return true;
  if (property.category != UTF8PROC_CATEGORY_CN) return false;
  return cp == 0x2065 || (cp >= 0xFFF0 && cp <= 0xFFF8) || (cp >= 0xE0000 && cp <= 0xE0FFF);
}

// The ASCII character that the canonical decomposition of `cp`, without its
// non-spacing marks, comes to (what accent stripping leaves), or kKeep.
int StrippedAscii(char32_t cp) {
  char32_t parts[8];
  const size_t count = text::Decompose(cp, parts);
  int ascii = kKeep;
  size_t kept = 0;
  for (size_t index = 0; index < count; ++index) {
    if (text::CharFlags(parts[index]) & text::kNonspacingMark) continue;
    ++kept;
    ascii = parts[index] >= 0x20 && parts[index] < 0x7F ? static_cast<int>(parts[index]) : kKeep;
  }
  if (kept == 0) return kRemove;
  return kept == 1 ? ascii : kKeep;
}

int ComputeMapping(char32_t cp) {
  if (cp < 0x80) return IsRemovedAscii(static_cast<uint8_t>(cp)) ? kRemove : kKeep;
  if (cp > 0x10FFFF) return kKeep;
  // The tokenizer's own character classes first: what it removes and what
  // it reads as a space.
  const uint8_t flags = text::CharFlags(cp);
  if (flags & (text::kControl | text::kNonspacingMark)) return kRemove;
  if (flags & text::kWhitespace) return ' ';
  const utf8proc_property_t& property = *utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
  // By current Unicode data too: marks and format characters assigned after
  // the tokenizer's Unicode version are as invisible.
  if (property.category == UTF8PROC_CATEGORY_MN || property.category == UTF8PROC_CATEGORY_CF ||
      IsDefaultIgnorable(cp, property)) {
    return kRemove;
  }
  if (property.category == UTF8PROC_CATEGORY_ND) return '0' + DecimalDigitValue(cp);
  switch (cp) {
    case 0x3002:  // ideographic full stop
    case 0xFE52:  // small full stop
    case 0xFF61:  // half-width ideographic full stop
      return '.';
    case 0x2212:  // minus sign
    case 0xFE58:  // small em dash
    case 0xFE63:  // small hyphen-minus
      return '-';
    default:
      break;
  }
  if (cp >= 0x2010 && cp <= 0x2015) return '-';
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFF01 + 0x21);
  if (flags & text::kHasDecomposition) return StrippedAscii(cp);
  return kKeep;
}

// The mapping of every code point of the Basic Multilingual Plane, computed
// once: text in most scripts then costs one load per character.
struct BmpTable {
  BmpTable() {
    for (char32_t cp = 0; cp < kSize; ++cp) mapping[cp] = static_cast<int8_t>(ComputeMapping(cp));
  }
  static constexpr char32_t kSize = 0x10000;
  int8_t mapping[kSize];
};

}  // namespace

int DecimalDigitValue(char32_t cp) {
  if (cp > 0x10FFFF || Category(cp) != UTF8PROC_CATEGORY_ND) return -1;
  // Unicode assigns decimal digits only in contiguous ascending runs of ten
  // starting with zero (Unicode Character Encoding Stability Policy), so the
  // value is the distance from the start of the run modulo ten;
  // normalizer_test checks every run utf8proc knows.
  char32_t first = cp;
  while (first > 0 && Category(first - 1) == UTF8PROC_CATEGORY_ND) --first;
  return static_cast<int>((cp - first) % 10);
}

int NormalizeCodePoint(char32_t cp) {
  if (cp < 0x80) return IsRemovedAscii(static_cast<uint8_t>(cp)) ? kRemove : kKeep;
  static const BmpTable table;
  return cp < BmpTable::kSize ? table.mapping[cp] : ComputeMapping(cp);
}

std::string NormalizeValue(std::string_view value) {
  NormalizedText normalized;
  normalized.Normalize(value);
  return std::string(normalized.text());
}

size_t RemovedRunEnd(std::string_view text, size_t pos) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  while (pos < text.size()) {
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + pos, text.size() - pos, &length);
    if (cp != text::kInvalidCodePoint && NormalizeCodePoint(cp) != kRemove) break;
    pos += length;
  }
  return pos;
}

size_t RemovedRunBegin(std::string_view text, size_t pos) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  while (pos > 0) {
    // The character that ends at `pos`: its lead byte is at most three
    // continuation bytes back. A byte that no well-formed character ending
    // at `pos` covers is malformed, and so removed.
    size_t lead = pos - 1;
    while (lead > 0 && pos - lead < 4 && (data[lead] & 0xC0) == 0x80) --lead;
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + lead, pos - lead, &length);
    if (cp == text::kInvalidCodePoint || lead + length != pos) {
      --pos;
      continue;
    }
    if (NormalizeCodePoint(cp) != kRemove) break;
    pos = lead;
  }
  return pos;
}

size_t NormalizedText::FirstChange(std::string_view input) {
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = 0;
  while (pos < input.size()) {
    if (data[pos] < 0x80) {
      if (IsRemovedAscii(data[pos])) return pos;
      ++pos;
      continue;
    }
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + pos, input.size() - pos, &length);
    if (cp == text::kInvalidCodePoint || NormalizeCodePoint(cp) >= 0) return pos;
    pos += length;
  }
  return pos;
}

void NormalizedText::Reserve(size_t size) {
  if (buffer_.size() < size) buffer_.resize(size);
  if (begin_.size() < size) begin_.resize(size);
  if (end_.size() < size) end_.resize(size);
}

void NormalizedText::Normalize(std::string_view input) {
  const size_t first = NeedsNoChange(input) ? input.size() : FirstChange(input);
  if (first == input.size()) {
    identity_ = true;
    text_ = input;
    return;
  }
  identity_ = false;
  Reserve(input.size());  // normalising never lengthens the text
  char* out = buffer_.data();
  uint32_t* begin = begin_.data();
  uint32_t* end = end_.data();
  size_t size = 0;
  auto copy = [&](size_t from, size_t count) {
    std::memcpy(out + size, input.data() + from, count);
    for (size_t offset = 0; offset < count; ++offset) {
      begin[size + offset] = static_cast<uint32_t>(from + offset);
      end[size + offset] = static_cast<uint32_t>(from + offset + 1);
    }
    size += count;
  };
  copy(0, first);
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = first;
  while (pos < input.size()) {
    size_t run = pos;
    while (run < input.size() && data[run] < 0x80 && !IsRemovedAscii(data[run])) ++run;
    if (run > pos) {
      copy(pos, run - pos);
      pos = run;
      continue;
    }
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + pos, input.size() - pos, &length);
    // A malformed byte reads as U+FFFD, which the tokenizer removes.
    const int mapped = cp == text::kInvalidCodePoint ? kRemove : NormalizeCodePoint(cp);
    if (mapped == kKeep) {
      copy(pos, length);
    } else if (mapped != kRemove) {
      out[size] = static_cast<char>(mapped);
      begin[size] = static_cast<uint32_t>(pos);
      end[size] = static_cast<uint32_t>(pos + length);
      ++size;
    }
    pos += length;
  }
  text_ = std::string_view(out, size);
}

}  // namespace mg::privacy
