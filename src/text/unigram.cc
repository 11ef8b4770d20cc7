#include "text/unigram.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "base/utf8.h"

namespace mg::text {

namespace {

constexpr double kUnkPenalty = 10.0;
constexpr size_t kMaxCacheEntries = 200000;

std::atomic<uint64_t> next_instance{1};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Segmented words of one thread, for one model at a time; piece offsets are
// relative to the word.
struct WordCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<Piece>, StringHash, std::equal_to<>> words;
};

}  // namespace

Result<Unigram> Unigram::Create(const Vocab& vocab, std::vector<double> scores, int32_t unk_id,
                                bool byte_fallback) {
  Unigram model;
  model.instance_ = next_instance.fetch_add(1);
  if (scores.empty()) return CorruptionError("Unigram vocabulary is empty");
  if (unk_id < 0 || static_cast<size_t>(unk_id) >= scores.size()) {
    return CorruptionError("Unigram unk_id " + std::to_string(unk_id) +
                           " is outside the vocabulary of " + std::to_string(scores.size()));
  }
  ByteTrie::Builder builder;
  double min_score = INFINITY;
  for (size_t id = 0; id < scores.size(); ++id) {
    const std::string_view piece = vocab.IdToToken(static_cast<int32_t>(id));
    if (piece.empty()) return CorruptionError("Unigram piece " + std::to_string(id) + " is empty");
    if (!std::isfinite(scores[id])) {
      return CorruptionError("Unigram piece " + std::to_string(id) + " has a non-finite score");
    }
    builder.Add(piece, static_cast<int32_t>(id));
    if (scores[id] < min_score) min_score = scores[id];
  }
  model.trie_ = builder.Build();
  model.scores_ = std::move(scores);
  model.unk_score_ = min_score - kUnkPenalty;
  model.unk_id_ = unk_id;
  model.byte_fallback_ = byte_fallback;
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    model.byte_ids_[byte] = model.trie_.Find(name);
  }
  return model;
}

void Unigram::Tokenize(std::string_view text, uint32_t begin, uint32_t end,
                       std::vector<Piece>* pieces) const {
  if (end <= begin) return;
  if (end - begin > kMaxCachedWord) {
    Segment(text, begin, end, pieces);
    return;
  }
  thread_local WordCache cache;
  thread_local std::vector<Piece> segmented;
  if (cache.owner != instance_) {
    cache.words.clear();
    cache.owner = instance_;
  }
  const std::string_view word = text.substr(begin, end - begin);
  auto it = cache.words.find(word);
  if (it == cache.words.end()) {
    segmented.clear();
    Segment(word, 0, end - begin, &segmented);
    if (cache.words.size() >= kMaxCacheEntries) cache.words.clear();
    it = cache.words.emplace(std::string(word), segmented).first;
  }
  for (const Piece& piece : it->second) {
    pieces->push_back({piece.id, piece.begin + begin, piece.end + begin});
  }
}

void Unigram::Segment(std::string_view text, uint32_t begin, uint32_t end,
                      std::vector<Piece>* pieces) const {
  struct Node {
    int32_t id;
    int32_t starts_at;  // -1: not reached
    double score;
  };
  thread_local std::vector<Node> best;
  thread_local std::vector<Piece> path;
  const size_t size = end - begin;
  const auto* data = reinterpret_cast<const uint8_t*>(text.data()) + begin;
  best.assign(size + 1, Node{0, -1, 0.0});
  for (size_t start = 0; start < size;) {
    const double base = best[start].score;
    const size_t char_length = std::min(Utf8LeadLength(data[start]), size - start);
    bool has_single = false;
    trie_.ForEachPrefix(data + start, size - start, [&](int32_t id, size_t length) {
      Node& target = best[start + length];
      const double candidate = scores_[static_cast<size_t>(id)] + base;
      if (target.starts_at < 0 || candidate > target.score) {
        target = {id, static_cast<int32_t>(start), candidate};
      }
      if (length == char_length) has_single = true;
    });
    if (!has_single) {
      Node& target = best[start + char_length];
      const double candidate = unk_score_ + base;
      if (target.starts_at < 0 || candidate > target.score) {
        target = {unk_id_, static_cast<int32_t>(start), candidate};
      }
    }
    start += char_length;
  }

  // Back from the end; consecutive unknown pieces fuse.
  path.clear();
  size_t unk_end = 0;
  bool in_unk = false;
  for (size_t at = size; at > 0;) {
    const Node& node = best[at];
    const auto from = static_cast<size_t>(node.starts_at);
    if (node.id == unk_id_) {
      if (!in_unk) unk_end = at;
      in_unk = true;
    } else {
      if (in_unk)
        path.push_back({unk_id_, static_cast<uint32_t>(at), static_cast<uint32_t>(unk_end)});
      in_unk = false;
      path.push_back({node.id, static_cast<uint32_t>(from), static_cast<uint32_t>(at)});
    }
    at = from;
  }
  if (in_unk) path.push_back({unk_id_, 0, static_cast<uint32_t>(unk_end)});

  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Piece piece{it->id, it->begin + begin, it->end + begin};
    if (piece.id == unk_id_) {
      // The fused text's own id when it is a piece.
      const std::string_view fused = text.substr(piece.begin, piece.end - piece.begin);
      const int32_t id = trie_.Find(fused);
      if (id >= 0) {
        piece.id = id;
      } else if (byte_fallback_) {
        bool all = true;
        for (char ch : fused) all = all && byte_ids_[static_cast<uint8_t>(ch)] >= 0;
        if (all) {
          for (char ch : fused) {
            pieces->push_back({byte_ids_[static_cast<uint8_t>(ch)], piece.begin, piece.end});
          }
          continue;
        }
      }
    }
    pieces->push_back(piece);
  }
}

}  // namespace mg::text
