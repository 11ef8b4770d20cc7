// BertConfig: the architecture and label settings of an encoder model of any
// supported family (BERT, DistilBERT, RoBERTa, ModernBERT; model/family.h),
// read from a Hugging Face config.json into BERT's field names.
//
// A plain value; validated on parse so that compute code can trust it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/family.h"

namespace mg::model {

enum class ProblemType { kSingleLabel, kMultiLabel, kRegression };

// The activation of ModernBERT's classification head (classifier_activation).
enum class ClassifierActivation { kGelu, kTanh, kRelu };

// ModernBERT's own config.json settings (Hugging Face `modernbert`); the
// other families leave them at their defaults and never read them.
struct ModernBertSettings {
  bool norm_bias = false;        // LayerNorms have a bias
  bool attention_bias = false;   // Wqkv and attn.Wo have biases
  bool mlp_bias = false;         // mlp.Wi and mlp.Wo have biases
  bool classifier_bias = false;  // head.dense has a bias
  double global_rope_theta = 160000.0;
  double local_rope_theta = 10000.0;
  // Width of a sliding-window layer: a token attends to the tokens at most
  // local_attention / 2 positions away.
  int64_t local_attention = 128;
  // Per layer: true for a sliding-window layer, false for a global one
  // (layer_types, else every global_attn_every_n_layers-th layer is global).
  std::vector<bool> sliding_layers;
  bool classifier_mean_pooling = false;  // classifier_pooling "mean" (else "cls")
  ClassifierActivation classifier_activation = ClassifierActivation::kGelu;
};

struct BertConfig {
  FamilyId family_id = FamilyId::kBert;
  std::string model_type = "bert";
  std::vector<std::string> architectures;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;  // 0: no token type embeddings (DistilBERT)
  float layer_norm_eps = 1e-12f;
  std::string hidden_act = "gelu";
  int64_t pad_token_id = 0;
  // Labels by index (id2label), empty when the config names none.
  std::vector<std::string> labels;
  ProblemType problem_type = ProblemType::kSingleLabel;
  ModernBertSettings modernbert;  // read only for the ModernBERT family

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  const Family& family() const { return FamilyOf(family_id); }
  // Longest sequence in tokens: the position table's rows, less those a
  // family reserves below its first position (RoBERTa: pad_token_id + 1).
  int64_t max_tokens() const;
  // Floating-point operations of one encoder pass over one sequence of
  // `seq_len` tokens: the layers' matrix products and attention.
  double ForwardFlops(int64_t seq_len) const;
  // True when the architectures name a sequence classifier.
  bool is_sequence_classifier() const;
};

// Parses and validates config.json text; `name` appears in errors.
Result<BertConfig> ParseBertConfig(const std::string& json_text, const std::string& name);
Result<BertConfig> ReadBertConfig(const std::string& path);

}  // namespace mg::model
