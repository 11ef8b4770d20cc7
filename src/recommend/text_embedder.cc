#include "recommend/text_embedder.h"

#include <algorithm>
#include <optional>

#include "recommend/vector_math.h"

namespace mg::recommend {

Status ModelEmbedder::Embed(const std::vector<std::string_view>& texts,
                            std::vector<float>* out) const {
  out->clear();
  out->reserve(texts.size() * dim());
  model::EncoderWorkspace workspace;
  model::PackedBatch batch;
  std::vector<float> embeddings;
  for (size_t start = 0; start < texts.size(); start += batch_size_) {
    const size_t end = std::min(texts.size(), start + batch_size_);
    const std::vector<std::string_view> part(texts.begin() + start, texts.begin() + end);
    const std::vector<std::optional<std::string_view>> no_pairs(part.size());
    MG_RETURN_IF_ERROR(model_.Pack(part, no_pairs, &batch));
    model_.Embed(batch, model_.default_pooling(), /*normalize=*/false, &workspace, &embeddings);
    for (size_t row = 0; row < part.size(); ++row) {
      float* vector = embeddings.data() + row * dim();
      if (!NormalizeInPlace(vector, dim())) {
        return InvalidArgumentError("text " + std::to_string(start + row) +
                                    " has a zero or non-finite embedding");
      }
      out->insert(out->end(), vector, vector + dim());
    }
  }
  return Status::Ok();
}

}  // namespace mg::recommend
