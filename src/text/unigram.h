// Unigram: SentencePiece's unigram language model, segmenting exactly as
// Hugging Face's Unigram model does.
//
// A word is cut by Viterbi over the vocabulary pieces that start at each
// character: a path's score is the sum of its pieces' scores (doubles). At
// each position pieces are tried shortest first and a later candidate
// replaces the best one only with a strictly higher score. A character with
// no single-character piece may also be taken as the unknown token, scored
// (lowest piece score - 10). Consecutive unknown characters on the best path
// fuse into one token. An unknown token whose text has no piece becomes
// <0xNN> byte tokens when byte fallback is on and every byte has one (each
// reporting the whole text's offsets), else the unknown id.
//
// Immutable after construction; Tokenize() is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/byte_trie.h"
#include "text/vocab.h"
#include "text/wordpiece.h"

namespace mg::text {

class Unigram {
 public:
  // `scores[id]` is the score of vocab's token `id` (every id below
  // scores.size() must have a token). Fails on a non-finite score, an empty
  // piece or an unk_id outside the vocabulary.
  static Result<Unigram> Create(const Vocab& vocab, std::vector<double> scores, int32_t unk_id,
                                bool byte_fallback);

  // Appends the pieces of text[begin, end) (valid UTF-8) to `pieces`; piece
  // offsets are byte positions in `text`.
  void Tokenize(std::string_view text, uint32_t begin, uint32_t end,
                std::vector<Piece>* pieces) const;

  int32_t unk_id() const { return unk_id_; }

  static constexpr size_t kMaxCachedWord = 64;

 private:
  // Tokenize() without the per-thread cache of words up to kMaxCachedWord
  // bytes.
  void Segment(std::string_view text, uint32_t begin, uint32_t end,
               std::vector<Piece>* pieces) const;
  uint64_t instance_ = 0;  // tells per-thread caches of different models apart
  ByteTrie trie_;          // piece -> id
  std::vector<double> scores_;
  double unk_score_ = 0;
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  int32_t byte_ids_[256] = {};  // <0xNN> ids for byte fallback; -1 when absent
};

}  // namespace mg::text
