#include "recommend/recommender.h"

#include <cmath>

#include "recommend/text_embedder.h"
#include "recommend/vector_math.h"

namespace mg::recommend {

double RecencyWeight(size_t index, size_t count, double decay) {
  return std::pow(decay, static_cast<double>(count - 1 - index));
}

Result<std::vector<float>> UserVector(const std::vector<float>& history, size_t count, size_t dim,
                                      double decay) {
  if (count == 0) return InvalidArgumentError("the history is empty");
  MG_CHECK(history.size() == count * dim);
  std::vector<double> sum(dim, 0.0);
  for (size_t entry = 0; entry < count; ++entry) {
    const double weight = RecencyWeight(entry, count, decay);
    for (size_t c = 0; c < dim; ++c) sum[c] += weight * history[entry * dim + c];
  }
  std::vector<float> user(sum.begin(), sum.end());
  if (!NormalizeInPlace(user.data(), dim)) {
    return InvalidArgumentError("the history's embeddings cancel out");
  }
  return user;
}

}  // namespace mg::recommend

namespace mg::recommend {

Result<std::vector<ScoredItem>> Recommend(const RecommendRequest& request,
                                          const TextEmbedder& embedder,
                                          const Catalogue& catalogue) {
  const size_t dim = catalogue.dim();
  if (embedder.dim() != dim) {
    return InvalidArgumentError("the model's embeddings have " + std::to_string(embedder.dim()) +
                                " values, the catalogue's " + std::to_string(dim));
  }
  std::vector<float> user;
  SearchFilter filter;
  filter.tags = request.tags;
  filter.exclude.insert(request.exclude.begin(), request.exclude.end());
  if (request.history.empty()) {
    if (request.query.empty()) return InvalidArgumentError("give a history or a query");
    MG_RETURN_IF_ERROR(embedder.Embed({request.query}, &user));
  } else {
    // Embed every text of the history in one batch, then place each
    // embedding (or stored item vector) at its position in time.
    std::vector<std::string_view> texts;
    for (const HistoryEntry& entry : request.history) {
      if (!entry.text.empty()) texts.push_back(entry.text);
    }
    std::vector<float> embedded;
    if (!texts.empty()) MG_RETURN_IF_ERROR(embedder.Embed(texts, &embedded));
    std::vector<float> history(request.history.size() * dim);
    std::vector<float> stored;
    size_t next_text = 0;
    for (size_t entry = 0; entry < request.history.size(); ++entry) {
      const HistoryEntry& item = request.history[entry];
      const float* vector;
      if (!item.text.empty()) {
        vector = embedded.data() + dim * next_text++;
      } else {
        MG_RETURN_IF_ERROR(catalogue.Vector(item.id, &stored));
        vector = stored.data();
      }
      std::copy(vector, vector + dim, history.begin() + entry * dim);
      if (request.exclude_seen && !item.id.empty()) filter.exclude.insert(item.id);
    }
    MG_ASSIGN_OR_RETURN(user, UserVector(history, request.history.size(), dim, request.decay));
  }
  return catalogue.Search(user.data(), request.k, filter);
}

}  // namespace mg::recommend
