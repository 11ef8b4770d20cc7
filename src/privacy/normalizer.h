// Normalisation before pattern matching, so that PII written to evade a
// scanner is still found:
//   - zero-width and invisible characters are removed (U+200B..U+200F,
//     U+2060..U+2064, U+FEFF, U+00AD soft hyphen, U+180E, U+202A..U+202E);
//   - full-width ASCII forms U+FF01..U+FF5E become ASCII, and so do the
//     ideographic space U+3000, other Unicode spaces (U+00A0, U+2000..U+200A,
//     U+202F, U+205F) and dashes (U+2010..U+2015, U+2212, U+FE58, U+FE63,
//     U+FF0D);
//   - a byte that is not part of well-formed UTF-8 becomes '\x01', a
//     separator that no pattern matches;
//   - every other character is copied unchanged.
// Each normalised byte remembers the byte range of the original it came from
// (bytes of unchanged characters map one to one), so spans found in the
// normalised text map back to exact byte offsets of the input. Text that
// needs no change (the common case, ASCII or not) is scanned in place.
//
// NormalizedText is a reusable buffer owned by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg::privacy {

class NormalizedText {
 public:
  // The text the detectors scan. Points into the input when it needed no
  // change (pure ASCII), else into this object's buffer; valid until the next
  // Normalize() and while the input lives.
  std::string_view text() const { return text_; }

  // Original byte range [OriginalBegin(b), OriginalEnd(e)) of the normalised
  // span [b, e), b < e <= text().size().
  size_t OriginalBegin(size_t begin) const { return identity_ ? begin : begin_[begin]; }
  size_t OriginalEnd(size_t end) const { return identity_ ? end : end_[end - 1]; }

  // True when text() is the input itself.
  bool identity() const { return identity_; }

  // Normalises `input` (at most 4 GiB - 1 bytes) into this object.
  void Normalize(std::string_view input);

 private:
  // The first byte of `input` that normalisation changes, or input.size().
  static size_t FirstChange(std::string_view input);
  void Reserve(size_t size);

  std::string_view text_;
  bool identity_ = true;
  // Grown, never shrunk, so that a reused object does not allocate.
  std::string buffer_;
  std::vector<uint32_t> begin_;  // per normalised byte: original begin
  std::vector<uint32_t> end_;    // per normalised byte: original end
};

// `value` normalised as a whole (a copy of NormalizedText::text()).
std::string NormalizeValue(std::string_view value);

// The ASCII character that a code point normalises to, 0 when it is removed,
// or -1 when it is kept as it is.
int NormalizeCodePoint(char32_t cp);

}  // namespace mg::privacy
