#include "text/bpe.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>

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

uint64_t HashPair(uint64_t key) {
  key *= 0x9E3779B97F4A7C15ull;
  return key ^ (key >> 29);
}

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
  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity *= 2;
  model.merges_.assign(capacity, Slot{});
  model.mask_ = capacity - 1;
  int32_t rank = 0;
  for (const auto& [left, right] : merges) {
    const int32_t left_id = vocab.TokenToId(left);
    const int32_t right_id = vocab.TokenToId(right);
    const int32_t new_id = vocab.TokenToId(left + right);
    if (left_id < 0 || right_id < 0 || new_id < 0) {
      return InvalidArgumentError("merge \"" + left + " " + right +
                                  "\" uses or makes a token that is not in the vocabulary");
    }
    const uint64_t key = PairKey(left_id, right_id);
    uint64_t slot = HashPair(key) & model.mask_;
    while (model.merges_[slot].key != key && model.merges_[slot].key != ~uint64_t{0}) {
      slot = (slot + 1) & model.mask_;
    }
    // A repeated merge takes its last rank, as Hugging Face's map does.
    model.merges_[slot] = {key, Merge{rank, new_id}};
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

const Bpe::Merge* Bpe::FindMerge(int32_t left, int32_t right) const {
  const uint64_t key = PairKey(left, right);
  for (uint64_t slot = HashPair(key) & mask_;; slot = (slot + 1) & mask_) {
    const Slot& entry = merges_[slot];
    if (entry.key == key) return &entry.merge;
    if (entry.key == ~uint64_t{0}) return nullptr;
  }
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

  // A min-heap of candidate merges by (rank, position), as Hugging Face's BPE
  // keeps; entries made stale by earlier merges are skipped when popped.
  std::vector<Candidate>& heap = heap_storage;
  heap.clear();
  const auto later = std::greater<>();
  auto push_pair = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const Merge* merge = FindMerge(symbols[pos].id, symbols[next].id)) {
      heap.push_back({merge->rank, pos, merge->new_id});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(symbols.size()); ++pos) push_pair(pos);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* merge = FindMerge(left.id, right.id);
    if (merge == nullptr || merge->new_id != top.new_id) continue;
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
