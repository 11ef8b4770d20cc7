// Normalisation before pattern matching: the detectors scan a view of the
// text in which every character that the BERT tokenizer (src/text) would
// drop is dropped too, so that a value the model would read is a value the
// detectors read. Rules are by Unicode property, not by lists of characters:
//   - removed: what the tokenizer's text cleaning removes (general category
//     Cc/Cf/Co/Cs except \t \n \r, NUL, U+FFFD, bytes that are not
//     well-formed UTF-8), what its accent stripping removes (category Mn),
//     and every Default_Ignorable_Code_Point (variation selectors, tag
//     characters, Hangul fillers, U+034F...), which render as nothing;
//   - every White_Space character becomes ' ', as the tokenizer does;
//   - decimal digits of any script (category Nd) become the ASCII digit of
//     the same value;
//   - full-width ASCII forms U+FF01..U+FF5E become ASCII; the ideographic,
//     half-width and small full stops become '.'; Unicode dashes become '-';
//   - a letter whose canonical decomposition is one ASCII character plus
//     non-spacing marks becomes that character ("é" -> "e"), as accent
//     stripping makes it;
//   - every other character is copied unchanged.
// Each normalised byte remembers the byte range of the original it came from
// (bytes of unchanged characters map one to one), so spans found in the
// normalised text map back to exact byte offsets of the input, removed
// characters inside a span included. Printable ASCII text (the common case)
// is scanned in place.
//
// NormalizedText is a reusable buffer owned by one thread at a time; the
// free functions are stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg::privacy {

class NormalizedText {
 public:
  // The text the detectors scan. Points into the input when it needed no
  // change, else into this object's buffer; valid until the next
  // Normalize() and while the input lives.
  std::string_view text() const { return text_; }

  // Original byte range [OriginalBegin(b), OriginalEnd(e)) of the normalised
  // span [b, e), b < e <= text().size().
  size_t OriginalBegin(size_t begin) const { return identity_ ? begin : begin_[begin]; }
  size_t OriginalEnd(size_t end) const { return identity_ ? end : end_[end - 1]; }

  // True when text() is the input itself.
  bool identity() const { return identity_; }

  // Normalises `input` (at most 4 GiB - 1 bytes; any bytes) into this object.
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

// What normalisation does with one code point (a Unicode scalar value):
// the ASCII character it becomes, 0 when it is removed, or -1 when it is
// kept as it is.
int NormalizeCodePoint(char32_t cp);

// The value 0..9 of a decimal digit of any script (general category Nd), or
// -1 for any other code point.
int DecimalDigitValue(char32_t cp);

// Where the run of removed characters (and malformed bytes) that ends at
// `pos` begins, and where the one that starts at `pos` ends; `pos` when
// there is none. `pos` must be a character boundary of `text`. A span found
// in the normalised text is widened by these so that invisible characters
// touching a value go with it.
size_t RemovedRunBegin(std::string_view text, size_t pos);
size_t RemovedRunEnd(std::string_view text, size_t pos);

}  // namespace mg::privacy
