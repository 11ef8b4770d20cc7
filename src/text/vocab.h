// Vocab: the token <-> id mapping of a tokenizer.
//
// Built once at load time, then read-only and thread-safe. Ids may have gaps
// (a tokenizer.json can skip ids); a missing id maps to an empty token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace mg::text {

class Vocab {
 public:
  Vocab() = default;

  // Parses a BERT vocab.txt: one token per line, id = line number. Lines are
  // split on '\n' only (tokens may contain U+2028 and other separators); a
  // trailing '\r' is removed. Rejects invalid UTF-8; a repeated token maps to
  // its last line.
  static Result<Vocab> FromVocabTxt(std::string_view contents, const std::string& name);

  // Adds `token` with `id`; fails if either is already taken by another pairing.
  Status Add(std::string token, int32_t id);

  // -1 when absent.
  int32_t TokenToId(std::string_view token) const;
  // Empty when `id` has no token.
  std::string_view IdToToken(int32_t id) const;

  // One past the largest id.
  size_t size() const { return tokens_.size(); }
  size_t count() const { return ids_.size(); }

  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace mg::text
