#include "recommend/test_vectors.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

#include "recommend/vector_math.h"

namespace mg::recommend::testing {

std::vector<float> RandomUnitVectors(size_t count, size_t dim, uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> out(count * dim);
  for (float& value : out) value = normal(random);
  for (size_t row = 0; row < count; ++row) NormalizeInPlace(out.data() + row * dim, dim);
  return out;
}

std::vector<float> ClusteredVectors(size_t groups, size_t per_group, size_t dim, float spread,
                                    uint32_t seed) {
  const std::vector<float> centres = RandomUnitVectors(groups, dim, seed);
  std::mt19937 random(seed + 1);
  std::normal_distribution<float> noise(0.0f, spread);
  std::vector<float> out(groups * per_group * dim);
  for (size_t group = 0; group < groups; ++group) {
    for (size_t i = 0; i < per_group; ++i) {
      float* row = out.data() + (group * per_group + i) * dim;
      for (size_t c = 0; c < dim; ++c) row[c] = centres[group * dim + c] + noise(random);
      NormalizeInPlace(row, dim);
    }
  }
  return out;
}

std::string Name(const char* prefix, size_t n) {
  std::string name = prefix;
  name.append(std::to_string(n));
  return name;
}

std::string Name(const char* prefix, size_t a, size_t b) {
  std::string name = Name(prefix, a);
  name.push_back('-');
  name.append(std::to_string(b));
  return name;
}

std::vector<Item> MakeItems(size_t count, const std::string& prefix) {
  std::vector<Item> items(count);
  for (size_t i = 0; i < count; ++i) items[i].id = Name(prefix.c_str(), i);
  return items;
}

std::vector<size_t> BruteForceTopK(const std::vector<float>& rows, size_t dim, const float* query,
                                   size_t k) {
  const size_t count = rows.size() / dim;
  std::vector<double> scores(count);
  for (size_t row = 0; row < count; ++row) {
    double dot = 0, norm = 0;
    for (size_t c = 0; c < dim; ++c) {
      dot += static_cast<double>(rows[row * dim + c]) * query[c];
      norm += static_cast<double>(rows[row * dim + c]) * rows[row * dim + c];
    }
    scores[row] = dot / std::sqrt(norm);
  }
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, count);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  order.resize(k);
  return order;
}

Status BagOfWordsEmbedder::Embed(const std::vector<std::string_view>& texts,
                                 std::vector<float>* out) const {
  out->assign(texts.size() * dim_, 0.0f);
  for (size_t t = 0; t < texts.size(); ++t) {
    std::istringstream words{std::string(texts[t])};
    std::string word;
    while (words >> word) (*out)[t * dim_ + std::hash<std::string>()(word) % dim_] += 1.0f;
    if (!NormalizeInPlace(out->data() + t * dim_, dim_)) {
      return InvalidArgumentError("text " + std::to_string(t) + " has no words");
    }
  }
  return Status::Ok();
}

}  // namespace mg::recommend::testing
