// Params: every trainable parameter of a BERT sequence classifier in one
// flat float32 buffer, with the layout (offsets per tensor) and the Hugging
// Face names of each tensor.
//
// The query, key and value projections of a layer sit next to each other so
// that they form one fused [3*hidden, hidden] matrix (and [3*hidden] bias).
// A ParamLayout is a plain value; Params owns its buffer. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"

namespace mg::train {

struct ParamTensor {
  std::string name;  // Hugging Face name, e.g. "bert.encoder.layer.0.output.dense.weight"
  std::vector<int64_t> shape;
  size_t offset = 0;
  size_t size = 0;
  bool decay = true;  // weight decay applies (not to biases and LayerNorm)
};

struct LayerOffsets {
  size_t qkv_weight, qkv_bias, attention_output_weight, attention_output_bias;
  size_t attention_norm_gamma, attention_norm_beta;
  size_t intermediate_weight, intermediate_bias, output_weight, output_bias;
  size_t output_norm_gamma, output_norm_beta;
};

struct ParamLayout {
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, intermediate = 0, positions = 0, types = 0,
          labels = 0;
  size_t word_embeddings = 0, position_embeddings = 0, token_type_embeddings = 0;
  size_t embedding_norm_gamma = 0, embedding_norm_beta = 0;
  std::vector<LayerOffsets> layer;
  size_t pooler_weight = 0, pooler_bias = 0, classifier_weight = 0, classifier_bias = 0;
  size_t total = 0;
  std::vector<ParamTensor> tensors;  // in Hugging Face's state-dict order

  static ParamLayout For(const model::BertConfig& config, int64_t labels);
};

// The BERT miniature shapes (Turc et al. 2019) and BERT-base: "tiny"
// (2 layers, 128 hidden), "mini" (4, 256), "small" (4, 512), "base" (12, 768).
Result<model::BertConfig> PresetConfig(const std::string& preset, int64_t vocab_size);

// Initialises like Hugging Face's BertPreTrainedModel: N(0, 0.02) weights and
// embeddings, zero biases, LayerNorm 1/0, the padding row zeroed. Seeded.
void InitParams(const ParamLayout& layout, int64_t pad_token_id, uint64_t seed,
                std::vector<float>* values);

// Copies the encoder and the pooler (and, when `load_classifier` and the
// label count matches, the classifier) from a checkpoint; parts it lacks keep
// their current values.
Status LoadParams(const model::Checkpoint& checkpoint, const model::BertConfig& config,
                  const ParamLayout& layout, std::vector<float>* values,
                  bool load_classifier = true);

}  // namespace mg::train
