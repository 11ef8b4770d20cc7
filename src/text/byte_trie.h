// ByteTrie: a compact, immutable trie over byte strings, answering "longest
// key that is a prefix of this text" in time linear in the bytes walked.
//
// Built once by ByteTrie::Builder; afterwards read-only and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace mg::text {

class ByteTrie {
 public:
  class Builder {
   public:
    // Adds `key` -> `value` (value >= 0). A later Add of the same key wins.
    void Add(std::string_view key, int32_t value);
    ByteTrie Build() const;

   private:
    struct Node {
      std::vector<std::pair<uint8_t, uint32_t>> children;
      int32_t value = -1;
    };
    std::vector<Node> nodes_{Node{}};
    friend class ByteTrie;
  };

  ByteTrie() = default;

  // Longest key k (k non-empty) that is a prefix of text[0..size). Returns its
  // value and sets *length, or returns -1 when no key matches.
  int32_t LongestPrefix(const uint8_t* text, size_t size, size_t* length) const;

  // Value of exactly `key`, or -1.
  int32_t Find(std::string_view key) const;

  // Calls f(value, length) for every non-empty key that is a prefix of
  // text[0..size), shortest first.
  template <typename F>
  void ForEachPrefix(const uint8_t* text, size_t size, F&& f) const {
    if (nodes_.empty() || size == 0) return;
    uint32_t node = root_children_[text[0]];
    size_t pos = 1;
    while (node != kNone) {
      if (nodes_[node].value >= 0) f(nodes_[node].value, pos);
      if (pos == size) break;
      node = Child(node, text[pos]);
      ++pos;
    }
  }

 private:
  // Child of `node` along `byte`, or kNone.
  uint32_t Child(uint32_t node, uint8_t byte) const;

  static constexpr uint32_t kNone = 0xFFFFFFFF;
  struct Node {
    uint32_t first_edge;
    uint32_t edge_count;
    int32_t value;
  };
  std::vector<Node> nodes_;
  std::vector<uint8_t> labels_;    // edge labels, sorted within a node
  std::vector<uint32_t> targets_;  // edge targets, parallel to labels_
  uint32_t root_children_[256];    // direct table for the root's edges
};

}  // namespace mg::text
