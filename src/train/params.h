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

// The offset of a tensor a layout does not have (ModernBERT without biases,
// its first layer's attention norm).
inline constexpr size_t kNoTensor = static_cast<size_t>(-1);

// The parameters at `offset`, or null for kNoTensor.
inline const float* ParamAt(const float* params, size_t offset) {
  return offset == kNoTensor ? nullptr : params + offset;
}
inline float* ParamAt(float* params, size_t offset) {
  return offset == kNoTensor ? nullptr : params + offset;
}

// A layer's tensors. In ModernBERT's layout the attention norm is attn_norm
// (before attention; none in layer 0), the output norm is mlp_norm (before
// the feed-forward block), intermediate is mlp.Wi ([2*intermediate,
// hidden]: input and gate) and output is mlp.Wo; absent biases are
// kNoTensor.
struct LayerOffsets {
  size_t qkv_weight, qkv_bias, attention_output_weight, attention_output_bias;
  size_t attention_norm_gamma, attention_norm_beta;
  size_t intermediate_weight, intermediate_bias, output_weight, output_bias;
  size_t output_norm_gamma, output_norm_beta;
  // LoRA on the query and value projections (when ParamLayout::lora_rank > 0):
  // A [rank, hidden], B [hidden, rank]. ModernBERT adapts its fused Wqkv:
  // lora_query_* hold A [rank, hidden] and B [3*hidden, rank], lora_value_*
  // are kNoTensor.
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
  // The head's dense layer (BERT's pooler, RoBERTa's classifier.dense,
  // DistilBERT's pre_classifier, ModernBERT's head.dense) and output layer.
  size_t pooler_weight = 0, pooler_bias = 0, classifier_weight = 0, classifier_bias = 0;
  // ModernBERT only: final_norm after the encoder, head.norm after the head's
  // activation, the attention pattern and pooling; layer_norm_eps is norm_eps.
  size_t final_norm_gamma = kNoTensor, final_norm_beta = kNoTensor;
  size_t head_norm_gamma = kNoTensor, head_norm_beta = kNoTensor;
  model::ModernBertSettings modernbert;
  float layer_norm_eps = 1e-12f;
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
// as BERT; with a family in front ("distilbert-tiny", "roberta-mini",
// "modernbert-small") the same shape in that family. RoBERTa presets place
// 512 positions after `pad_token_id`, as roberta-base does. ModernBERT
// presets take ModernBERT-base's settings (no biases, norm_eps 1e-5, every
// third layer global, 128-token windows, rotary thetas 160000 and 10000,
// first-token pooling, GELU head) with an intermediate size of 1.5 x hidden
// (the GeGLU input projection is twice that) and 8192 positions.
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
// their current values. A ModernBERT checkpoint may name its encoder with or
// without the "model." prefix; a tensor of the encoder it lacks, or of
// another shape, is an error naming it.
Status LoadParams(const model::Checkpoint& checkpoint, const model::BertConfig& config,
                  const ParamLayout& layout, std::vector<float>* values,
                  bool load_classifier = true);

}  // namespace mg::train
