// Bpe: a byte-level byte-pair-encoding model, exactly as Hugging Face's BPE
// model merges a word: the word's bytes start as one symbol each (the
// vocabulary's token for the byte's ByteLevel character), then the adjacent
// pair with the lowest merge rank is merged, leftmost first, until no pair
// has a merge. Words of up to kMaxCachedWord bytes are remembered in a
// per-thread cache.
//
// Immutable after construction; Tokenize() is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "text/vocab.h"
#include "text/wordpiece.h"

namespace mg::text {

class Bpe {
 public:
  // `merges` are pairs of vocabulary tokens, highest priority first. Fails
  // when a merge names a token, or produces one, that is not in `vocab`.
  // `unk_token` may be empty (bytes without a token are then dropped).
  static Result<Bpe> Create(const Vocab& vocab,
                            const std::vector<std::pair<std::string, std::string>>& merges,
                            const std::string& unk_token);

  // Parses merges.txt ("#version" header, then "left right" per line).
  static Result<std::vector<std::pair<std::string, std::string>>> ParseMergesTxt(
      std::string_view contents, const std::string& name);

  // Appends the pieces of text[begin, end) to `pieces`; piece offsets are
  // byte positions in `text`.
  void Tokenize(std::string_view text, uint32_t begin, uint32_t end,
                std::vector<Piece>* pieces) const;

  int32_t unk_id() const { return unk_id_; }

  static constexpr size_t kMaxCachedWord = 64;

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // Merges the word's symbols; appends (id, byte length) per symbol.
  void MergeWord(std::string_view word, std::vector<std::pair<int32_t, uint32_t>>* out) const;

  // The merge for a pair of ids, or null.
  const Merge* FindMerge(int32_t left, int32_t right) const;

  int32_t byte_id_[256] = {};  // -1: no token for the byte
  int32_t unk_id_ = -1;
  // Open-addressing table of merges by PairKey; an empty slot has key ~0.
  struct Slot {
    uint64_t key = ~uint64_t{0};
    Merge merge{};
  };
  std::vector<Slot> merges_;
  uint64_t mask_ = 0;
  uint64_t instance_ = 0;  // tells per-thread caches of different models apart
};

}  // namespace mg::text
