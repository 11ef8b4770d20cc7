// WordPiece: splits one word into the longest vocabulary pieces, left to
// right, exactly like Hugging Face's WordPiece model: the first piece is
// looked up as is, later pieces with the continuation prefix ("##"); a word
// with no complete split, or longer than max_input_chars_per_word characters,
// becomes the single unknown token.
//
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/byte_trie.h"
#include "text/vocab.h"

namespace mg::text {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

// A piece: its id and its byte range in the word's text.
struct Piece {
  int32_t id;
  uint32_t begin;
  uint32_t end;
};

class WordPiece {
 public:
  // Fails when the unknown token is not in `vocab`.
  static Result<WordPiece> Create(const Vocab& vocab, const WordPieceOptions& options);

  // Appends the pieces of word[begin, end) (valid UTF-8) to `pieces`; piece
  // offsets are positions in `word`.
  void Tokenize(std::string_view word, uint32_t begin, uint32_t end,
                std::vector<Piece>* pieces) const;

  int32_t unk_id() const { return unk_id_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  WordPieceOptions options_;
  int32_t unk_id_ = -1;
  ByteTrie word_start_;    // every token
  ByteTrie continuation_;  // tokens that start with the prefix, prefix removed
};

}  // namespace mg::text
