// Params: every trainable parameter of a sequence classifier of any encoder
// family (model/family.h) in one flat float32 buffer, with the layout
// (offsets per tensor) and the family's Hugging Face names of each tensor.
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
  bool decay = true;      // weight decay applies (not to biases and LayerNorm)
  bool trainable = true;  // false: frozen (LoRA training freezes the encoder)
};

struct LayerOffsets {
  size_t qkv_weight, qkv_bias, attention_output_weight, attention_output_bias;
  size_t attention_norm_gamma, attention_norm_beta;
  size_t intermediate_weight, intermediate_bias, output_weight, output_bias;
  size_t output_norm_gamma, output_norm_beta;
  // LoRA on the query and value projections (when ParamLayout::lora_rank > 0):
  // A [rank, hidden], B [hidden, rank].
  size_t lora_query_a, lora_query_b, lora_value_a, lora_value_b;
};

// Low-rank adaptation (Hu et al. 2021) of the attention query and value
// projections: y = x W^T + b + (alpha / rank) (x A^T) B^T, with every encoder
// weight frozen. rank 0: no adapter, every parameter trains.
struct LoraOptions {
  int64_t rank = 0;
  float alpha = 0;  // scale numerator; 0 means alpha = rank (scale 1)
};

struct ParamLayout {
  model::FamilyId family = model::FamilyId::kBert;
  int64_t pad_token_id = 0;  // positions skip it in families that say so (RoBERTa)
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, intermediate = 0, positions = 0, types = 0,
          labels = 0;
  // types == 0 (DistilBERT): no token_type_embeddings tensor.
  size_t word_embeddings = 0, position_embeddings = 0, token_type_embeddings = 0;
  size_t embedding_norm_gamma = 0, embedding_norm_beta = 0;
  std::vector<LayerOffsets> layer;
  size_t pooler_weight = 0, pooler_bias = 0, classifier_weight = 0, classifier_bias = 0;
  size_t total = 0;
  std::vector<ParamTensor> tensors;      // in Hugging Face's state-dict order, LoRA last
  int64_t lora_rank = 0;                 // 0: no adapter
  float lora_alpha = 0, lora_scale = 0;  // scale = alpha / rank

  bool has_lora() const { return lora_rank > 0; }
  const model::Family& family_info() const { return model::FamilyOf(family); }
  static ParamLayout For(const model::BertConfig& config, int64_t labels, LoraOptions lora = {});
};

// True for the LoRA tensors of a layout (names end in lora_A.weight / lora_B.weight).
bool IsLoraTensor(const std::string& name);

// The BERT miniature shapes (Turc et al. 2019) and BERT-base: "tiny"
// (2 layers, 128 hidden), "mini" (4, 256), "small" (4, 512), "base" (12, 768),
// as BERT; with a family in front ("distilbert-tiny", "roberta-mini") the
// same shape in that family. RoBERTa presets place 512 positions after
// `pad_token_id`, as roberta-base does.
Result<model::BertConfig> PresetConfig(const std::string& preset, int64_t vocab_size,
                                       int64_t pad_token_id = 0);
// The preset names, for help texts and errors.
std::string PresetNames();

// Initialises like Hugging Face's BertPreTrainedModel: N(0, 0.02) weights and
// embeddings, zero biases, LayerNorm 1/0, the padding row zeroed; LoRA A
// uniform in +-1/sqrt(hidden) (PEFT's kaiming_uniform(a=sqrt(5))) and B zero,
// so that an adapter starts as the identity. Seeded.
void InitParams(const ParamLayout& layout, int64_t pad_token_id, uint64_t seed,
                std::vector<float>* values);

// Copies the encoder and the pooler (and, when `load_classifier` and the
// label count matches, the classifier) from a checkpoint; parts it lacks keep
// their current values.
Status LoadParams(const model::Checkpoint& checkpoint, const model::BertConfig& config,
                  const ParamLayout& layout, std::vector<float>* values,
                  bool load_classifier = true);

}  // namespace mg::train
