// HfTokenizerFiles: writes a loaded WordPiece Tokenizer back out as the files
// Hugging Face loaders read (tokenizers' tokenizer.json, transformers'
// tokenizer_config.json and special_tokens_map.json), so that a model folder
// built from a bare vocab.txt loads in npm `tokenizers`, TEI and transformers
// and tokenizes there as it does in modelgate.
//
// Stateless; every function is thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"
#include "text/tokenizer.h"

namespace mg::text {

class HfTokenizerFiles {
 public:
  // tokenizer.json: BertNormalizer (or none), BertPreTokenizer or Whitespace,
  // WordPiece with the whole vocabulary, TemplateProcessing with the
  // tokenizer's [CLS]/[SEP] templates, the added tokens, padding and
  // truncation null. Unimplemented for a byte-level BPE tokenizer (whose
  // folders always carry their own tokenizer.json).
  static Result<std::string> TokenizerJson(const Tokenizer& tokenizer);
  // tokenizer_config.json for BertTokenizer; `model_max_length` 0 leaves the
  // tokenizer's own (or none).
  static std::string TokenizerConfigJson(const Tokenizer& tokenizer, size_t model_max_length);
  // special_tokens_map.json: the unk/sep/pad/cls/mask tokens the vocabulary has.
  static std::string SpecialTokensMapJson(const Tokenizer& tokenizer);
};

}  // namespace mg::text
