// LoraAdapter: a PEFT LoRA adapter of an encoder model of any family
// (adapter_config.json and adapter_model.safetensors, as `modelgate train
// --lora-rank` and PEFT's save_pretrained write them; module and tensor
// names, e.g. query or DistilBERT's q_lin, are read through model/family.h), validated against the
// model's config and merged into its loaded weights for inference:
//
//   W' = W + (lora_alpha / r) * B A     for every adapted projection
//
// Supported: LoRA on the attention query, key and value projections of every
// layer (ModernBERT: on its fused Wqkv), and modules_to_save tensors of the
// head (pooler, classifier; ModernBERT's head.dense, head.norm, classifier),
// which replace the base's. Anything else (other targets, DoRA, bias training,
// fan_in_fan_out, per-layer patterns, rank 0, shapes that do not fit,
// non-finite values, unknown tensors) is refused with an error that names
// the file. The merge runs in a fixed order (double accumulation over the
// rank, one rounding), so the merged weights depend only on the inputs.
//
// A LoraAdapter is a plain value; functions are stateless and thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "model/bert_weights.h"
#include "model/checkpoint.h"

namespace mg::model {

inline constexpr char kAdapterConfigFile[] = "adapter_config.json";
inline constexpr char kAdapterWeightsFile[] = "adapter_model.safetensors";

struct LoraAdapter {
  int64_t rank = 0;
  double alpha = 0;
  float scale = 0;  // alpha / rank (alpha / sqrt(rank) with use_rslora)
  // Per layer, per projection (0 query, 1 key, 2 value): A [rank, hidden]
  // and B [hidden, rank]; empty where that projection is not a target.
  // ModernBERT's fused Wqkv is projection 0 with B [3 * hidden, rank].
  std::vector<std::array<std::vector<float>, 3>> a, b;
  // Head tensors the adapter carries (modules_to_save); empty when absent.
  // head_norm_* is ModernBERT's head.norm (its pooler is head.dense, whose
  // bias exists only with classifier_bias).
  std::vector<float> pooler_weight, pooler_bias, classifier_weight, classifier_bias;
  std::vector<float> head_norm_gamma, head_norm_beta;

  bool has_classifier() const { return !classifier_weight.empty(); }
};

// Parses and checks an adapter for a model with `config`. `name` stands for
// the adapter's folder or bundle in messages.
Result<LoraAdapter> ParseLoraAdapter(std::string_view config_json, const Checkpoint& weights,
                                     const BertConfig& config, const std::string& name);

// Merges `adapter` into `weights` (loaded for the same config): every
// layer (MergeLoraLayer) and the head (MergeLoraHead).
void MergeLoraAdapter(const LoraAdapter& adapter, BertWeights* weights);
// Merges the adapter's deltas of layer `index` into `layer` (its plain
// query/key/value matrix must still be there).
void MergeLoraLayer(const LoraAdapter& adapter, int64_t index, BertLayerWeights* layer);
// Replaces the pooler and classifier of `weights` with the adapter's, where
// it carries them.
void MergeLoraHead(const LoraAdapter& adapter, BertWeights* weights);

// True when `dir` holds either adapter file.
bool HasLoraAdapter(const std::string& dir);

}  // namespace mg::model
