// Tokenizer loading (tokenizer.json, vocab.txt, tokenizer_config.json) and
// tokenizing arbitrary text. The input holds four parts separated by
// "\n--\n": tokenizer.json, vocab.txt, tokenizer_config.json and the text.
// When the files do not load, the text goes through bert-base-uncased, so
// every input tokenizes something.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "text/tokenizer.h"

namespace {

const mg::text::Tokenizer& Uncased() {
  static const auto* tokenizer = new mg::text::Tokenizer(
      mg::text::Tokenizer::Load(MG_SOURCE_DIR "/tests/data/vocab/bert-base-uncased").value());
  return *tokenizer;
}

void Tokenize(const mg::text::Tokenizer& tokenizer, std::string_view text) {
  const std::string_view pair = text.substr(text.size() / 2);
  const std::string_view first = text.substr(0, text.size() / 2);
  mg::text::Encoding encoding;
  for (const bool special : {true, false}) {
    mg::text::EncodeOptions options;
    options.add_special_tokens = special;
    if (!tokenizer.Encode(text, nullptr, options, &encoding).ok()) {
      mg::fuzz::Fail("encoding without truncation failed");
    }
    for (size_t at = 0; at < encoding.size(); ++at) {
      if (encoding.offsets[at].begin > encoding.offsets[at].end ||
          encoding.offsets[at].end > text.size()) {
        mg::fuzz::Fail("token offsets outside the text");
      }
      if (encoding.ids[at] < 0 ||
          static_cast<size_t>(encoding.ids[at]) >= tokenizer.vocab().size()) {
        mg::fuzz::Fail("token id outside the vocabulary");
      }
    }
    options.max_length = 8;
    options.pad_to = 8;
    if (tokenizer.Encode(first, &pair, options, &encoding).ok() && encoding.size() != 8) {
      mg::fuzz::Fail("truncated and padded encoding of the wrong length");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = mg::fuzz::SplitParts(mg::fuzz::AsText(data, size), 4);
  auto loaded = mg::text::Tokenizer::FromMemory(parts[0], parts[1], parts[2], "fuzz");
  Tokenize(loaded.ok() ? *loaded : Uncased(), parts[3]);
  return 0;
}
