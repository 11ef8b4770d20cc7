// Loading a ModernBERT checkpoint (Hugging Face `modernbert`) into
// BertWeights, whose fields it fills as bert_weights.h describes.
#pragma once

#include "base/status.h"
#include "model/bert_config.h"
#include "model/bert_weights.h"
#include "model/checkpoint.h"

namespace mg::model {

// Reads model.embeddings.*, model.layers.N.*, model.final_norm.* (with or
// without the "model." prefix) and, with `want_classifier`, head.dense.*,
// head.norm.* and classifier.*, from any storage dtype. Biases are read when
// config.modernbert says they exist; every shape is checked against
// `config`, and errors name the tensor and the file.
Result<BertWeights> LoadModernBertWeights(const Checkpoint& checkpoint, const BertConfig& config,
                                          bool want_classifier);

}  // namespace mg::model
