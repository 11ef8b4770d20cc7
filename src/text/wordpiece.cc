#include "text/wordpiece.h"

namespace mg::text {

Result<WordPiece> WordPiece::Create(const Vocab& vocab, const WordPieceOptions& options) {
  WordPiece model;
  model.options_ = options;
  model.unk_id_ = vocab.TokenToId(options.unk_token);
  if (model.unk_id_ < 0) {
    return InvalidArgumentError("the unknown token \"" + options.unk_token +
                                "\" is not in the vocabulary");
  }
  ByteTrie::Builder start;
  ByteTrie::Builder continuation;
  const std::string& prefix = options.continuing_subword_prefix;
  const auto& tokens = vocab.tokens();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& token = tokens[id];
    if (token.empty()) continue;
    // Only the id the vocabulary maps the token to (the last, for repeats).
    if (vocab.TokenToId(token) != static_cast<int32_t>(id)) continue;
    start.Add(token, static_cast<int32_t>(id));
    if (token.size() > prefix.size() && token.compare(0, prefix.size(), prefix) == 0) {
      continuation.Add(std::string_view(token).substr(prefix.size()), static_cast<int32_t>(id));
    }
  }
  model.word_start_ = start.Build();
  model.continuation_ = continuation.Build();
  return model;
}

void WordPiece::Tokenize(std::string_view word, uint32_t begin, uint32_t end,
                         std::vector<Piece>* pieces) const {
  const auto* data = reinterpret_cast<const uint8_t*>(word.data());
  const size_t byte_count = end - begin;
  // Count characters only when the byte count could exceed the limit.
  if (byte_count > options_.max_input_chars_per_word) {
    size_t chars = 0;
    for (uint32_t pos = begin; pos < end; ++pos) chars += (data[pos] & 0xC0) != 0x80;
    if (chars > options_.max_input_chars_per_word) {
      pieces->push_back({unk_id_, begin, end});
      return;
    }
  }
  const size_t first_piece = pieces->size();
  uint32_t pos = begin;
  while (pos < end) {
    const ByteTrie& trie = pos == begin ? word_start_ : continuation_;
    size_t length = 0;
    int32_t id = trie.LongestPrefix(data + pos, end - pos, &length);
    if (id < 0) {
      pieces->resize(first_piece);
      pieces->push_back({unk_id_, begin, end});
      return;
    }
    pieces->push_back({id, pos, static_cast<uint32_t>(pos + length)});
    pos += static_cast<uint32_t>(length);
  }
}

}  // namespace mg::text
