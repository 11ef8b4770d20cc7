#include "text/byte_trie.h"

#include <algorithm>
#include <cstring>

namespace mg::text {

void ByteTrie::Builder::Add(std::string_view key, int32_t value) {
  uint32_t node = 0;
  for (char ch : key) {
    const auto byte = static_cast<uint8_t>(ch);
    uint32_t next = kNone;
    for (const auto& [label, target] : nodes_[node].children) {
      if (label == byte) {
        next = target;
        break;
      }
    }
    if (next == kNone) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_[node].children.emplace_back(byte, next);
      nodes_.emplace_back();
    }
    node = next;
  }
  nodes_[node].value = value;
}

ByteTrie ByteTrie::Builder::Build() const {
  ByteTrie trie;
  trie.nodes_.resize(nodes_.size());
  size_t edge_total = 0;
  for (const auto& node : nodes_) edge_total += node.children.size();
  trie.labels_.reserve(edge_total);
  trie.targets_.reserve(edge_total);
  for (size_t index = 0; index < nodes_.size(); ++index) {
    auto children = nodes_[index].children;
    std::sort(children.begin(), children.end());
    trie.nodes_[index] = {static_cast<uint32_t>(trie.labels_.size()),
                          static_cast<uint32_t>(children.size()), nodes_[index].value};
    for (const auto& [label, target] : children) {
      trie.labels_.push_back(label);
      trie.targets_.push_back(target);
    }
  }
  std::fill(std::begin(trie.root_children_), std::end(trie.root_children_), kNone);
  for (const auto& [label, target] : nodes_[0].children) trie.root_children_[label] = target;
  return trie;
}

uint32_t ByteTrie::Child(uint32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  const uint8_t* labels = labels_.data() + n.first_edge;
  if (n.edge_count <= 16) {
    for (uint32_t i = 0; i < n.edge_count; ++i) {
      if (labels[i] == byte) return targets_[n.first_edge + i];
      if (labels[i] > byte) return kNone;
    }
    return kNone;
  }
  const uint8_t* found = std::lower_bound(labels, labels + n.edge_count, byte);
  if (found == labels + n.edge_count || *found != byte) return kNone;
  return targets_[n.first_edge + static_cast<uint32_t>(found - labels)];
}

int32_t ByteTrie::LongestPrefix(const uint8_t* text, size_t size, size_t* length) const {
  if (nodes_.empty() || size == 0) return -1;
  uint32_t node = root_children_[text[0]];
  int32_t best = -1;
  size_t pos = 1;
  while (node != kNone) {
    if (nodes_[node].value >= 0) {
      best = nodes_[node].value;
      *length = pos;
    }
    if (pos == size) break;
    node = Child(node, text[pos]);
    ++pos;
  }
  return best;
}

int32_t ByteTrie::Find(std::string_view key) const {
  if (nodes_.empty()) return -1;
  uint32_t node = 0;
  for (char ch : key) {
    node = node == 0 ? root_children_[static_cast<uint8_t>(ch)]
                     : Child(node, static_cast<uint8_t>(ch));
    if (node == kNone) return -1;
  }
  return nodes_[node].value;
}

}  // namespace mg::text
