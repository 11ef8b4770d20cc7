// Model: a loaded encoder model of any supported family (model/family.h) ready for inference —
// tokenizer, config, weights, encoder and heads — from a Hugging Face model folder.
//
// Immutable after Load(); Embed() and Classify() are thread-safe for distinct
// workspaces. The weights are shared read-only by all callers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"
#include "model/encoder.h"
#include "text/tokenizer.h"

namespace mg::model {

enum class Pooling { kMean, kCls };

// How a model is built from its source. The precision applies to the
// encoder's packed linear layers (query/key/value, attention output,
// intermediate and output of every layer: kernels/packed_linear.h). Below
// F32 the word-embedding table is also stored in bf16 (rows widened to F32
// as they are read), which halves the largest table; the embedding sums,
// LayerNorm, attention scores, softmax and the classification head always
// run in F32. A LoRA adapter is merged in F32 before the layers are
// converted.
struct LoadOptions {
  kernels::Precision precision = kernels::Precision::kF32;
};

Result<Pooling> ParsePooling(std::string_view name);

// The output activation of a classifier on one row of `labels` logits, in
// place: softmax for single-label models, sigmoid for multi-label, none for
// regression. The one implementation: Model::Classify and the server's raw
// rows (/predict without raw_scores) both go through it.
void ActivateScores(ProblemType problem, float* row, int64_t labels);

class Model {
 public:
  // Reads config.json, the weights (any format Checkpoint reads) and the
  // tokenizer files of `dir`, and 1_Pooling/config.json when present. A LoRA
  // adapter in the folder (adapter_config.json + adapter_model.safetensors,
  // model/lora_adapter.h) is merged into the weights.
  static Result<std::unique_ptr<Model>> Load(const std::string& dir,
                                             const LoadOptions& options = {});

  // The same from parts already in memory (e.g. decrypted from a bundle):
  // config.json text, the weights, the tokenizer and the text of
  // 1_Pooling/config.json (empty when absent). `name` stands for the model
  // in messages. With `adapter_weights` (and the text of its
  // adapter_config.json) a LoRA adapter is checked and merged into the
  // weights; `adapter_name` stands for where it came from (default: `name`).
  // Nothing is written to disk.
  static Result<std::unique_ptr<Model>> FromParts(
      std::string_view config_json, const Checkpoint& checkpoint, text::Tokenizer tokenizer,
      std::string_view pooling_config, const std::string& name,
      std::string_view adapter_config = {}, const Checkpoint* adapter_weights = nullptr,
      const std::string& adapter_name = {}, const LoadOptions& options = {});

  // Tokenizes `texts` (with pairs[i] as the second text when `pairs` is
  // non-empty and pairs[i] is set), truncating each to max_length() tokens,
  // into `batch`.
  Status Pack(const std::vector<std::string_view>& texts,
              const std::vector<std::optional<std::string_view>>& pairs, PackedBatch* batch) const;

  // Sentence embeddings [sequences, hidden] into `out`.
  void Embed(const PackedBatch& batch, Pooling pooling, bool normalize, EncoderWorkspace* ws,
             std::vector<float>* out) const;

  // Per-label scores [sequences, labels] into `out`: softmax for single-label
  // models, sigmoid for multi-label, raw values for regression.
  // Requires is_classifier().
  void Classify(const PackedBatch& batch, EncoderWorkspace* ws, std::vector<float>* out) const;

  bool is_classifier() const { return encoder_->weights().has_classifier(); }
  const BertConfig& config() const { return encoder_->config(); }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const Encoder& encoder() const { return *encoder_; }
  Pooling default_pooling() const { return default_pooling_; }
  // The precision the linear layers run in (F32 when the CPU lacked a kernel
  // for the one asked).
  kernels::Precision precision() const { return encoder_->precision(); }
  // Longest input in tokens (special tokens included).
  size_t max_length() const { return max_length_; }
  // Things a user should know about (e.g. a vocabulary larger than the model's).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Model() = default;

  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<Encoder> encoder_;
  Pooling default_pooling_ = Pooling::kMean;
  size_t max_length_ = 512;
  std::vector<std::string> warnings_;
};

}  // namespace mg::model
