// TextEmbedder: turns texts into unit-length embeddings for the catalogue.
// ModelEmbedder does it with a loaded BERT model (its default pooling, then
// L2 normalisation), in batches; tests pass other implementations.
//
// Embed() is thread-safe: ModelEmbedder uses a fresh workspace per call and
// the model is shared read-only. The model must outlive the embedder.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/model.h"

namespace mg::recommend {

class TextEmbedder {
 public:
  virtual ~TextEmbedder() = default;
  virtual size_t dim() const = 0;
  // [texts.size(), dim()] unit vectors, appended to `out` after clearing it.
  virtual Status Embed(const std::vector<std::string_view>& texts,
                       std::vector<float>* out) const = 0;
};

class ModelEmbedder : public TextEmbedder {
 public:
  explicit ModelEmbedder(const model::Model& model, size_t batch_size = 32)
      : model_(model), batch_size_(batch_size) {}
  size_t dim() const override { return static_cast<size_t>(model_.config().hidden_size); }
  Status Embed(const std::vector<std::string_view>& texts, std::vector<float>* out) const override;

 private:
  const model::Model& model_;
  size_t batch_size_;
};

}  // namespace mg::recommend
