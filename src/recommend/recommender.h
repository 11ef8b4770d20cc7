// Recommendation from a user's history: the user vector is the normalised,
// recency-weighted mean of the history's embeddings (oldest first, most
// recent last; each step back in time multiplies the weight by `decay`), and
// the recommendations are the catalogue items nearest to it.
//
// Stateless functions; thread-safe as the catalogue is (readers only).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"
#include "recommend/catalogue.h"

namespace mg::recommend {

// Weight of history entry `index` of `count` (most recent = 1).
double RecencyWeight(size_t index, size_t count, double decay);

// The unit user vector of `count` history embeddings ([count, dim] floats,
// each of unit length). InvalidArgument when the history is empty or its
// weighted mean is zero (e.g. two opposite vectors).
Result<std::vector<float>> UserVector(const std::vector<float>& history, size_t count, size_t dim,
                                      double decay);

}  // namespace mg::recommend

namespace mg::recommend {

class TextEmbedder;

// One thing the user interacted with: a text, a catalogue item id, or both
// (then the text is embedded and the id counts as seen).
struct HistoryEntry {
  std::string text;
  std::string id;
};

struct RecommendRequest {
  std::vector<HistoryEntry> history;  // oldest first; or
  std::string query;                  // used when history is empty
  size_t k = 10;
  std::vector<std::string> tags;     // only items with one of these tags
  std::vector<std::string> exclude;  // never these ids
  bool exclude_seen = true;          // never the ids named in the history
  double decay = 0.8;                // recency weight factor per step back
};

// The k best items for `request`, best first. Texts are embedded with
// `embedder`; history ids use the catalogue's stored vectors (NotFound when
// an id is not in the catalogue).
Result<std::vector<ScoredItem>> Recommend(const RecommendRequest& request,
                                          const TextEmbedder& embedder, const Catalogue& catalogue);

}  // namespace mg::recommend
