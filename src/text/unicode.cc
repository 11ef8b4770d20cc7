#include "text/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <memory>

namespace mg::text {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Characters assigned after Unicode 8.0 (see tools/gen_unicode_age.py).
constexpr CodePointRange kAssignedAfterUnicode8[] = {
#include "text/unicode_age_table.inc"
};

// The reference tokenizer classifies characters with Unicode 8.0 data: to it,
// anything assigned later is an unassigned code point (kept, a letter-like
// character with no decomposition).
bool AssignedAfterUnicode8(char32_t cp) {
  const auto* end = std::end(kAssignedAfterUnicode8);
  const auto* it =
      std::upper_bound(std::begin(kAssignedAfterUnicode8), end, cp,
                       [](char32_t value, const CodePointRange& r) { return value < r.first; });
  return it != std::begin(kAssignedAfterUnicode8) && cp <= (it - 1)->last;
}

struct CaseMapping {
  char32_t from;
  char32_t to;
};

constexpr CaseMapping kUnicode16Lowercase[] = {
#include "text/unicode16_lowercase.inc"
};

// Simple lower-case mapping, with the reference tokenizer's Unicode 16 data.
char32_t SimpleLower(char32_t cp) {
  const auto* end = std::end(kUnicode16Lowercase);
  const auto* it =
      std::lower_bound(std::begin(kUnicode16Lowercase), end, cp,
                       [](const CaseMapping& m, char32_t value) { return m.from < value; });
  if (it != end && it->from == cp) return it->to;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

// Characters whose general category changed after Unicode 8.0, with their 8.0
// category (UnicodeData.txt 8.0.0 vs 15.0.0).
utf8proc_category_t Unicode8Category(char32_t cp, utf8proc_category_t current) {
  switch (cp) {
    case 0x1734:
      return UTF8PROC_CATEGORY_MN;  // HANUNOO SIGN PAMUDPOD: Mn, now Mc
    case 0x111C9:
      return UTF8PROC_CATEGORY_PO;  // SHARADA SANDHI MARK: Po, now Mn
    case 0x166D:
      return UTF8PROC_CATEGORY_PO;  // CANADIAN SYLLABICS CHI SIGN: Po, now So
    case 0x1885:                    // MONGOLIAN LETTER ALI GALI BALUDA: Lo, now Mn
    case 0x1886:
      return UTF8PROC_CATEGORY_LO;  // MONGOLIAN LETTER ALI GALI THREE BALUDA
    case 0xA9BD:
      return UTF8PROC_CATEGORY_MC;  // JAVANESE CONSONANT SIGN KERET: Mc, now Mn
    default:
      return current;
  }
}

constexpr char32_t kMaxCodePoint = 0x10FFFF;

bool IsChineseCodePoint(char32_t cp) {
  // The CJK Unified Ideographs blocks and compatibility blocks that BERT's
  // reference tokenizer surrounds with spaces.
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool IsAsciiPunctuation(char32_t cp) {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
         (cp >= 123 && cp <= 126);
}

// Unicode's White_Space property (as Rust's char::is_whitespace reports it).
bool IsWhiteSpaceProperty(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

uint8_t ComputeFlags(char32_t cp) {
  const utf8proc_property_t* prop = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
  const bool unknown_to_unicode8 = AssignedAfterUnicode8(cp);
  const auto category =
      unknown_to_unicode8 ? UTF8PROC_CATEGORY_CN
                          : Unicode8Category(cp, static_cast<utf8proc_category_t>(prop->category));
  uint8_t flags = 0;
  if (IsWhiteSpaceProperty(cp)) flags |= kWhitespace;
  // Control, format, surrogate and private use; unassigned code points are kept.
  const bool is_other = category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
                        category == UTF8PROC_CATEGORY_CS || category == UTF8PROC_CATEGORY_CO;
  const bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
  if ((is_other && !tab_or_newline) || cp == 0 || cp == kReplacementChar) flags |= kControl;
  const bool is_p = category == UTF8PROC_CATEGORY_PC || category == UTF8PROC_CATEGORY_PD ||
                    category == UTF8PROC_CATEGORY_PS || category == UTF8PROC_CATEGORY_PE ||
                    category == UTF8PROC_CATEGORY_PI || category == UTF8PROC_CATEGORY_PF ||
                    category == UTF8PROC_CATEGORY_PO;
  if (is_p || IsAsciiPunctuation(cp)) flags |= kPunctuation;
  if (IsChineseCodePoint(cp)) flags |= kChinese;
  // Unicode regex \w (Alphabetic, marks, Nd, Pc, Join_Control), by the
  // current tables: the reference pre-tokenizer's regex engine is recent.
  {
    const auto now = static_cast<utf8proc_category_t>(prop->category);
    const bool letter = now == UTF8PROC_CATEGORY_LU || now == UTF8PROC_CATEGORY_LL ||
                        now == UTF8PROC_CATEGORY_LT || now == UTF8PROC_CATEGORY_LM ||
                        now == UTF8PROC_CATEGORY_LO || now == UTF8PROC_CATEGORY_NL;
    const bool mark =
        now == UTF8PROC_CATEGORY_MN || now == UTF8PROC_CATEGORY_MC || now == UTF8PROC_CATEGORY_ME;
    const bool other_alphabetic =
        (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
        (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
    if (letter || mark || now == UTF8PROC_CATEGORY_ND || now == UTF8PROC_CATEGORY_PC ||
        cp == 0x200C || cp == 0x200D || other_alphabetic) {
      flags |= kWordChar;
    }
  }
  if (category == UTF8PROC_CATEGORY_MN) flags |= kNonspacingMark;
  if (cp == 0x130 || SimpleLower(cp) != cp) {
    flags |= kHasLowercase;
  }
  if (!unknown_to_unicode8 &&
      (prop->decomp_seqindex != UINT16_MAX || (cp >= 0xAC00 && cp <= 0xD7A3))) {
    // A canonical mapping exists when the decomposition is not a compatibility one.
    if (!prop->decomp_type || (cp >= 0xAC00 && cp <= 0xD7A3)) flags |= kHasDecomposition;
  }
  return flags;
}

struct FlagTable {
  FlagTable() : flags(new uint8_t[kMaxCodePoint + 1]) {
    for (char32_t cp = 0; cp <= kMaxCodePoint; ++cp) flags[cp] = ComputeFlags(cp);
  }
  std::unique_ptr<uint8_t[]> flags;
};

const FlagTable& Table() {
  static const FlagTable table;
  return table;
}

}  // namespace

char32_t DecodeUtf8(const uint8_t* data, size_t size, size_t* length) {
  *length = 1;
  const uint8_t b0 = data[0];
  if (b0 < 0x80) return b0;
  auto cont = [&](size_t i) { return i < size && (data[i] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1)) return kInvalidCodePoint;
    *length = 2;
    return (char32_t(b0 & 0x1F) << 6) | (data[1] & 0x3F);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return kInvalidCodePoint;
    char32_t cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(data[1] & 0x3F) << 6) | (data[2] & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalidCodePoint;
    *length = 3;
    return cp;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return kInvalidCodePoint;
    char32_t cp = (char32_t(b0 & 0x07) << 18) | (char32_t(data[1] & 0x3F) << 12) |
                  (char32_t(data[2] & 0x3F) << 6) | (data[3] & 0x3F);
    if (cp < 0x10000 || cp > kMaxCodePoint) return kInvalidCodePoint;
    *length = 4;
    return cp;
  }
  return kInvalidCodePoint;
}

size_t EncodeUtf8(char32_t cp, uint8_t* out) {
  if (cp < 0x80) {
    out[0] = static_cast<uint8_t>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  return 4;
}

bool IsValidUtf8(const uint8_t* data, size_t size) {
  size_t pos = 0;
  while (pos < size) {
    if (data[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t length = 0;
    if (DecodeUtf8(data + pos, size - pos, &length) == kInvalidCodePoint) return false;
    pos += length;
  }
  return true;
}

uint8_t CharFlags(char32_t cp) {
  if (cp > kMaxCodePoint) return 0;
  return Table().flags[cp];
}

size_t ToLower(char32_t cp, char32_t* out) {
  if (cp == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE: the one multi-character mapping
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = SimpleLower(cp);
  return 1;
}

size_t Decompose(char32_t cp, char32_t* out) {
  utf8proc_int32_t buffer[8];
  int last_boundclass = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 8,
                                               UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n <= 0 || n > 8) {
    out[0] = cp;
    return 1;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buffer[i]);
  return static_cast<size_t>(n);
}

}  // namespace mg::text
