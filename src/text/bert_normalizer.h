// BertNormalizer: the text clean-up that BERT tokenizers apply before
// splitting into words, identical in effect to Hugging Face's BertNormalizer:
//   1. clean_text: drop NUL, U+FFFD, invalid UTF-8 bytes and control/format/
//      unassigned characters; turn every whitespace character into ' ';
//   2. handle_chinese_chars: put spaces around CJK ideographs;
//   3. strip_accents: canonical decomposition (NFD), then drop non-spacing marks;
//   4. lowercase: full Unicode lower-case mapping.
// Every output byte keeps the byte range of the input character it came from.
//
// Immutable after construction; Normalize() is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "text/normalized_text.h"

namespace mg::text {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // Hugging Face's default: follow `lowercase`
  bool lowercase = true;
};

class BertNormalizer {
 public:
  explicit BertNormalizer(const BertNormalizerOptions& options);

  // Normalizes input[begin, end) and appends the result to `out`. Offsets
  // recorded in `out` are absolute positions in `input`.
  void Normalize(std::string_view input, size_t begin, size_t end, NormalizedText* out) const;

  const BertNormalizerOptions& options() const { return options_; }

 private:
  // Appends the normalized form of one non-ASCII (or unusual) character.
  void NormalizeChar(char32_t cp, uint32_t orig_begin, uint32_t orig_end,
                     NormalizedText* out) const;

  BertNormalizerOptions options_;
  // Action for each ASCII byte: 0 drop, 1 emit ' ', 2 emit the mapped byte.
  uint8_t ascii_action_[128];
  uint8_t ascii_map_[128];
};

}  // namespace mg::text
