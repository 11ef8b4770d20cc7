// Encoding: the output of tokenizing one text or text pair.
//
// A plain value; all vectors have the same length.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mg::text {

struct Offset {
  uint32_t begin = 0;  // byte offsets into the UTF-8 text the token came from
  uint32_t end = 0;
  bool operator==(const Offset&) const = default;
};

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<Offset> offsets;
  std::vector<uint8_t> special_tokens_mask;  // 1 for template and padding tokens
  std::vector<uint8_t> attention_mask;       // 0 for padding
  std::vector<int8_t> sequence_ids;          // 0 first text, 1 second, -1 special/padding
  // (index, text) of the tokens whose text is not their vocabulary token,
  // by increasing index: a Unigram unknown token keeps the text it stands
  // for, as Hugging Face reports it.
  std::vector<std::pair<uint32_t, std::string>> token_texts;

  size_t size() const { return ids.size(); }
  void Clear() {
    ids.clear();
    type_ids.clear();
    offsets.clear();
    special_tokens_mask.clear();
    attention_mask.clear();
    sequence_ids.clear();
    token_texts.clear();
  }
};

}  // namespace mg::text
