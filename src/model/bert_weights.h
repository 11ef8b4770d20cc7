// BertWeights: the parameters of a BERT encoder (and its optional pooler and
// classifier) in float32, laid out for the forward pass: Q, K and V projections
// fused into one [3*hidden, hidden] matrix per layer.
//
// A ModernBERT model (model/modernbert_weights.h) fills the same fields as
// their ModernBERT counterparts: qkv_* = attn.Wqkv, attention_output_* =
// attn.Wo, attention_norm_* = attn_norm (empty in layer 0, which has none),
// intermediate_* = mlp.Wi ([2I, H]: GeGLU input rows, then gate rows),
// output_* = mlp.Wo, output_norm_* = mlp_norm, embedding_norm_* =
// embeddings.norm, pooler_* = head.dense, plus final_norm_* and head_norm_*.
// Biases it lacks stay empty; LayerNorm betas it lacks are zeros.
//
// Loaded once and read-only afterwards; shared by all inference threads.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"

namespace mg::model {

struct BertLayerWeights {
  std::vector<float> qkv_weight;  // [3H, H]: query, key, value rows
  std::vector<float> qkv_bias;    // [3H]
  std::vector<float> attention_output_weight, attention_output_bias;  // [H, H], [H]
  std::vector<float> attention_norm_gamma, attention_norm_beta;       // [H]
  std::vector<float> intermediate_weight, intermediate_bias;          // [I, H], [I]
  std::vector<float> output_weight, output_bias;                      // [H, I], [H]
  std::vector<float> output_norm_gamma, output_norm_beta;             // [H]
};

struct BertWeights {
  // [V, H] in F32, or empty once StoreWordEmbeddingsAsBf16 has moved the table
  // into word_embeddings_bf16; read rows through CopyWordRow either way.
  std::vector<float> word_embeddings;
  std::vector<uint16_t> word_embeddings_bf16;  // [V, H] bfloat16 bits, or empty
  std::vector<float> position_embeddings;      // [P, H]
  std::vector<float> token_type_embeddings;    // [T, H]; empty when the family has none
  std::vector<float> embedding_norm_gamma, embedding_norm_beta;
  std::vector<BertLayerWeights> layers;
  std::vector<float> pooler_weight, pooler_bias;          // empty when absent
  std::vector<float> classifier_weight, classifier_bias;  // [C, H], [C]; empty when absent
  // ModernBERT only: final_norm after the last layer and the head's norm.
  std::vector<float> final_norm_gamma, final_norm_beta;
  std::vector<float> head_norm_gamma, head_norm_beta;  // empty without a classifier

  bool has_pooler() const { return !pooler_weight.empty(); }
  bool has_classifier() const { return !classifier_weight.empty(); }
  // Bytes of parameters held.
  size_t bytes() const;

  // Rounds the word-embedding table to bfloat16 (nearest even) and frees the
  // F32 copy: the largest table (a quarter of BERT-base) at half the size,
  // for models whose linear layers run in bf16 or int8 (model/model.h).
  void StoreWordEmbeddingsAsBf16();
  // Writes word-embedding row `id` as F32 to out[0, hidden).
  void CopyWordRow(int32_t id, int64_t hidden, float* out) const;
};

// Reads the weights named in the Hugging Face layout of the config's family
// (model/family.h), with or without its prefix ("bert.", "roberta.",
// "distilbert.") and with LayerNorm weight/bias or gamma/beta, from any
// storage dtype. The head's hidden projection (BERT pooler, RoBERTa
// classifier.dense, DistilBERT pre_classifier) lands in pooler_*, its output
// projection in classifier_*; token_type_embeddings stays empty for a family
// without token types. Every shape is checked against `config`; errors name the
// tensor and the file. `want_classifier` requires classifier.* tensors.
// A ModernBERT config is handed to LoadModernBertWeights.
//
// `on_layer`, when set, is called with each layer as soon as it is read (in
// order), e.g. to pack its matrices and free the plain copies, so that the
// whole model never sits in memory as F32 at once. ModernBERT's loader does
// not call it. `bf16_word_embeddings` stores the word embeddings in bf16 as
// soon as they are read, before any layer (StoreWordEmbeddingsAsBf16).
using LayerSink = std::function<void(int64_t index, BertLayerWeights* layer)>;
Result<BertWeights> LoadBertWeights(const Checkpoint& checkpoint, const BertConfig& config,
                                    bool want_classifier, const LayerSink& on_layer = nullptr,
                                    bool bf16_word_embeddings = false);

}  // namespace mg::model
