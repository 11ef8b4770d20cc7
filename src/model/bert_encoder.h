// BertEncoder: the encoder forward pass of every supported family (BERT,
// DistilBERT, RoBERTa: model/family.h) on a packed batch — the tokens of all
// sequences side by side, each sequence attending only to itself — so texts
// of different lengths cost what their tokens cost, with no padding.
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
#include "tensor/tensor.h"

namespace mg::model {

// Token ids of several sequences, concatenated. Sequence s owns tokens
// [offsets[s], offsets[s + 1]).
struct PackedBatch {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<int64_t> offsets = {0};

  int64_t sequences() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t tokens() const { return static_cast<int64_t>(ids.size()); }
  int64_t length(int64_t s) const { return offsets[s + 1] - offsets[s]; }
  void Clear() {
    ids.clear();
    type_ids.clear();
    offsets.assign(1, 0);
  }
};

// Scratch buffers of one inference thread.
struct EncoderWorkspace {
  Tensor hidden{DType::kF32, {0}};
  Tensor qkv{DType::kF32, {0}};
  Tensor context{DType::kF32, {0}};
  Tensor projected{DType::kF32, {0}};
  Tensor intermediate{DType::kF32, {0}};
  Tensor attention_scratch{DType::kF32, {0}};
};

class BertEncoder {
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
  const Tensor& Forward(const PackedBatch& batch, EncoderWorkspace* ws) const;

  // The head on the first token of each sequence: act(W h_first + b) (tanh:
  // BERT pooler, RoBERTa classifier.dense; ReLU: DistilBERT pre_classifier),
  // then the output projection's logits: `logits` gets [sequences, labels].
  // Requires a classifier.
  void Classify(const PackedBatch& batch, const Tensor& hidden, EncoderWorkspace* ws,
                std::vector<float>* logits) const;

  const BertConfig& config() const { return config_; }
  const BertWeights& weights() const { return weights_; }
  // What the packed layers run in (kernels::PackedLinear::precision()).
  kernels::Precision precision() const;
  // Bytes of parameters held (packed layers included).
  size_t bytes() const;

 private:
  void Embed(const PackedBatch& batch, float* out) const;
  void Attention(const PackedBatch& batch, const float* qkv, float* context,
                 EncoderWorkspace* ws) const;

  BertConfig config_;
  BertWeights weights_;
  std::vector<PackedLayer> layers_;
};

}  // namespace mg::model
