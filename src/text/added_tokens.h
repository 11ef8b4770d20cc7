// AddedTokens: tokens matched in the text before normalization or word
// splitting (special tokens such as [CLS] and [SEP], and user-added tokens),
// with Hugging Face's semantics: leftmost-longest matches; `lstrip`/`rstrip`
// absorb whitespace on that side; `single_word` matches only whole words;
// `normalized` tokens are matched in the normalized text, the others in the
// raw input.
//
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg::text {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A match: the token's id and the byte range it covers (whitespace absorbed
// by lstrip/rstrip included).
struct AddedTokenMatch {
  int32_t id;
  uint32_t begin;
  uint32_t end;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns[i]` is the text to look for; `tokens[i]` supplies id and flags.
  AddedTokenMatcher(std::vector<std::string> patterns, std::vector<AddedToken> tokens);

  bool empty() const { return patterns_.empty(); }

  // Appends the non-overlapping matches in text[begin, end), left to right.
  void FindAll(std::string_view text, size_t begin, size_t end,
               std::vector<AddedTokenMatch>* matches) const;

 private:
  std::vector<std::string> patterns_;  // sorted longest first
  std::vector<AddedToken> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace mg::text
