// BertPreTokenizer: splits normalized text into words the way Hugging Face's
// BertPreTokenizer does: whitespace separates words and is dropped; every
// punctuation character (Unicode P* or ASCII punctuation) is a word of its own.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mg::text {

// A word as a byte range of the normalized text.
struct WordSpan {
  uint32_t begin;
  uint32_t end;
};

// Appends the words of normalized[begin, end) to `words`.
void BertPreTokenize(std::string_view normalized, size_t begin, size_t end,
                     std::vector<WordSpan>* words);

// Hugging Face's "Whitespace" pre-tokenizer: the matches of the regex
// \w+|[^\w\s]+, i.e. runs of word characters and runs of other non-space
// characters.
void WhitespacePreTokenize(std::string_view normalized, size_t begin, size_t end,
                           std::vector<WordSpan>* words);

}  // namespace mg::text
