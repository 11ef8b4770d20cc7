// BertEncoder: the encoder forward pass of the post-LayerNorm families (BERT,
// DistilBERT, RoBERTa: model/family.h) on a packed batch (model/encoder.h).
//
// The encoder holds shared read-only weights; Forward() is thread-safe for
// distinct Workspaces. After a Workspace has seen the largest batch, Forward
// does not allocate.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/packed_linear.h"
#include "model/bert_config.h"
#include "model/bert_weights.h"
#include "model/encoder.h"
#include "tensor/tensor.h"

namespace mg::model {

class BertEncoder final : public Encoder {
 public:
  // The four linear layers of one encoder layer, packed for the GEMM kernels.
  struct PackedLayer {
    kernels::PackedLinear qkv;               // bias fused
    kernels::PackedLinear attention_output;  // bias fused
    kernels::PackedLinear intermediate;      // bias and GELU fused
    kernels::PackedLinear output;            // bias fused
  };

  // Packs the matrices of `layer` in `precision` and frees their plain
  // copies (its biases and norms stay), so a model can be packed layer by
  // layer while it loads (LoadBertWeights' LayerSink).
  static PackedLayer PackLayer(const BertConfig& config, BertLayerWeights* layer,
                               kernels::Precision precision);

  // Packs the layer matrices for the GEMM kernels in `precision` and frees
  // the plain copies in `weights` (embeddings, norms, pooler and classifier
  // stay as they are, in F32).
  BertEncoder(BertConfig config, BertWeights weights,
              kernels::Precision precision = kernels::Precision::kF32);
  // With the layers already packed: `packed[i]` from PackLayer on
  // weights.layers[i].
  BertEncoder(BertConfig config, BertWeights weights, std::vector<PackedLayer> packed);

  // Runs the encoder; returns the last hidden states [tokens, hidden] in
  // ws->hidden. Ids must be < vocab_size, type ids < type_vocab_size (any
  // when the family has no token types) and each sequence no longer than
  // config().max_tokens() (callers check).
  const Tensor& Forward(const PackedBatch& batch, EncoderWorkspace* ws) const override;

  // The head on the first token of each sequence: act(W h_first + b) (tanh:
  // BERT pooler, RoBERTa classifier.dense; ReLU: DistilBERT pre_classifier),
  // then the output projection's logits: `logits` gets [sequences, labels].
  // Requires a classifier.
  void Classify(const PackedBatch& batch, const Tensor& hidden, EncoderWorkspace* ws,
                std::vector<float>* logits) const override;

  const BertConfig& config() const override { return config_; }
  const BertWeights& weights() const override { return weights_; }
  kernels::Precision precision() const override;
  size_t bytes() const override;

 private:
  void Embed(const PackedBatch& batch, float* out) const;
  void Attention(const PackedBatch& batch, const float* qkv, float* context,
                 EncoderWorkspace* ws) const;

  BertConfig config_;
  BertWeights weights_;
  std::vector<PackedLayer> layers_;
};

}  // namespace mg::model
