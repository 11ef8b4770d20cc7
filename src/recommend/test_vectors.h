// Test helpers of the recommend module: random and clustered unit vectors,
// an independent brute-force top-k, and a bag-of-words embedder.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "recommend/catalogue.h"
#include "recommend/text_embedder.h"

namespace mg::recommend::testing {

// `count` random unit vectors of `dim` floats, row-major.
std::vector<float> RandomUnitVectors(size_t count, size_t dim, uint32_t seed);

// `groups` random unit centres, and `per_group` vectors around each
// (centre + Gaussian noise of `spread` per component, normalised); row
// g * per_group + i belongs to group g.
std::vector<float> ClusteredVectors(size_t groups, size_t per_group, size_t dim, float spread,
                                    uint32_t seed);

// prefix + n, and prefix + a + "-" + b (built by appending: GCC 12 warns
// falsely on operator+ chains).
std::string Name(const char* prefix, size_t n);
std::string Name(const char* prefix, size_t a, size_t b);

// Ids "item<N>" and optional tags for `count` items.
std::vector<Item> MakeItems(size_t count, const std::string& prefix = "item");

// Top-k row indices by cosine, computed in double with a plain loop.
std::vector<size_t> BruteForceTopK(const std::vector<float>& rows, size_t dim, const float* query,
                                   size_t k);

// Embeds a text as its normalised bag of hashed whitespace-separated words.
class BagOfWordsEmbedder : public TextEmbedder {
 public:
  explicit BagOfWordsEmbedder(size_t dim) : dim_(dim) {}
  size_t dim() const override { return dim_; }
  Status Embed(const std::vector<std::string_view>& texts, std::vector<float>* out) const override;

 private:
  size_t dim_;
};

}  // namespace mg::recommend::testing
