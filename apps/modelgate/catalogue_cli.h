// Shared by `modelgate items` and `modelgate recommend`: the model id a
// catalogue records for a model folder, and opening a catalogue built with
// the model at hand.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "recommend/catalogue.h"

namespace mg::cli {

// The model folder's name ("models/minilm/" -> "minilm").
inline std::string CatalogueModelId(const std::string& model_path) {
  std::filesystem::path path(model_path);
  if (!path.has_filename()) path = path.parent_path();
  return path.filename().string();
}

// Throws unless the catalogue was embedded with a model of this id and size.
inline void CheckCatalogueModel(const recommend::Catalogue& catalogue, const std::string& model_id,
                                size_t dim) {
  if (catalogue.dim() != dim || catalogue.model_id() != model_id) {
    throw CliError("the catalogue in " + catalogue.dir() + " holds embeddings of model \"" +
                   catalogue.model_id() + "\" (" + std::to_string(catalogue.dim()) +
                   " values); this is \"" + model_id + "\" (" + std::to_string(dim) + ")");
  }
}

}  // namespace mg::cli
