#include "text/bpe.h"

#include <atomic>
#include <queue>

#include "text/byte_level.h"

namespace mg::text {
namespace {

std::atomic<uint64_t> next_instance{1};

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t length;  // bytes; 0 once merged into its left neighbour
};

struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Merged words of one thread, for one model at a time.
struct WordCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<std::pair<int32_t, uint32_t>>, StringHash,
                     std::equal_to<>>
      words;
};

constexpr size_t kMaxCacheEntries = 200000;

}  // namespace

Result<Bpe> Bpe::Create(const Vocab& vocab,
                        const std::vector<std::pair<std::string, std::string>>& merges,
                        const std::string& unk_token) {
  Bpe model;
  model.instance_ = next_instance.fetch_add(1);
  for (int byte = 0; byte < 256; ++byte) {
    model.byte_id_[byte] = vocab.TokenToId(ByteLevelChar(static_cast<uint8_t>(byte)));
  }
  if (!unk_token.empty()) {
    model.unk_id_ = vocab.TokenToId(unk_token);
    if (model.unk_id_ < 0) {
      return InvalidArgumentError("the unknown token \"" + unk_token +
                                  "\" is not in the vocabulary");
    }
  }
  model.merges_.reserve(merges.size());
  int32_t rank = 0;
  for (const auto& [left, right] : merges) {
    const int32_t left_id = vocab.TokenToId(left);
    const int32_t right_id = vocab.TokenToId(right);
    const int32_t new_id = vocab.TokenToId(left + right);
    if (left_id < 0 || right_id < 0 || new_id < 0) {
      return InvalidArgumentError("merge \"" + left + " " + right +
                                  "\" uses or makes a token that is not in the vocabulary");
    }
    model.merges_.emplace(PairKey(left_id, right_id), Merge{rank, new_id});
    ++rank;
  }
  return model;
}

Result<std::vector<std::pair<std::string, std::string>>> Bpe::ParseMergesTxt(
    std::string_view contents, const std::string& name) {
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_number = 0;
  while (!contents.empty()) {
    size_t newline = contents.find('\n');
    std::string_view line = contents.substr(0, newline);
    contents =
        newline == std::string_view::npos ? std::string_view() : contents.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      return CorruptionError(name + ":" + std::to_string(line_number) +
                             ": expected two tokens separated by one space");
    }
    merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  return merges;
}

void Bpe::MergeWord(std::string_view word, std::vector<std::pair<int32_t, uint32_t>>* out) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap_storage;
  symbols.clear();
  uint32_t dropped = 0;  // bytes without a token, joined to the next symbol's span
  for (size_t i = 0; i < word.size(); ++i) {
    int32_t id = byte_id_[static_cast<uint8_t>(word[i])];
    if (id < 0) id = unk_id_;
    if (id < 0) {
      ++dropped;
      continue;
    }
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, 1 + dropped});
    dropped = 0;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  heap_storage.clear();
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(
      std::greater<>(), std::move(heap_storage));
  auto push_pair = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    auto it = merges_.find(PairKey(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  };
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(symbols.size()); ++pos) push_pair(pos);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t pos = 0; pos >= 0; pos = symbols[pos].next) {
    out->emplace_back(symbols[pos].id, symbols[pos].length);
  }
}

void Bpe::Tokenize(std::string_view text, uint32_t begin, uint32_t end,
                   std::vector<Piece>* pieces) const {
  thread_local WordCache cache;
  thread_local std::vector<std::pair<int32_t, uint32_t>> merged;
  const std::string_view word = text.substr(begin, end - begin);
  const std::vector<std::pair<int32_t, uint32_t>>* result = &merged;
  if (word.size() <= kMaxCachedWord) {
    if (cache.owner != instance_) {
      cache.words.clear();
      cache.owner = instance_;
    }
    auto it = cache.words.find(word);
    if (it != cache.words.end()) {
      result = &it->second;
    } else {
      merged.clear();
      MergeWord(word, &merged);
      if (cache.words.size() >= kMaxCacheEntries) cache.words.clear();
      result = &cache.words.emplace(std::string(word), merged).first->second;
    }
  } else {
    merged.clear();
    MergeWord(word, &merged);
  }
  uint32_t pos = begin;
  for (const auto& [id, length] : *result) {
    pieces->push_back({id, pos, pos + length});
    pos += length;
  }
}

}  // namespace mg::text
