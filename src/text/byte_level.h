// ByteLevel: the byte-level pieces of GPT-2 style tokenizers, as Hugging
// Face's ByteLevel pre-tokenizer defines them:
//   - the split of text into words by GPT-2's pattern
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented as a scanner over Unicode general categories (no regex
//     engine): \p{L} is L*, \p{N} is N*, \s is Unicode White_Space;
//   - the map from each byte to the printable character that stands for it in
//     the vocabulary (bytes_to_unicode: ' ' becomes 'Ġ', '\n' 'Ċ', ...).
//
// Stateless; every function is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/bert_pre_tokenizer.h"

namespace mg::text {

// Appends the GPT-2 words of text[begin, end) (valid UTF-8) to `words`.
void Gpt2PreTokenize(std::string_view text, size_t begin, size_t end, std::vector<WordSpan>* words);

// The UTF-8 encoding of the character that stands for `byte`.
std::string_view ByteLevelChar(uint8_t byte);

}  // namespace mg::text
