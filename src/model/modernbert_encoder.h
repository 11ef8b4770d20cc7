// ModernBertEncoder: the ModernBERT forward pass (Hugging Face `modernbert`)
// on a packed batch (model/encoder.h).
//
// Per layer, pre-LayerNorm: x += Wo(attention(rotary(Wqkv(attn_norm(x)))))
// (attn_norm is the identity in layer 0), then x += Wo(gelu(a) * g) with
// [a, g] = Wi(mlp_norm(x)); final_norm after the last layer. Rotary position
// embeddings (non-interleaved halves) use global_rope_theta in global layers
// and local_rope_theta in sliding-window layers, where a token attends only to
// the tokens at most local_attention / 2 positions away. Positions count from
// 0 in each sequence. Embeddings are the token embeddings and their norm.
//
// Holds shared read-only weights; Forward() and Classify() are thread-safe for
// distinct Workspaces. After a Workspace has seen the largest batch, they do
// not allocate.
#pragma once

#include <vector>

#include "kernels/packed_linear.h"
#include "model/encoder.h"

namespace mg::model {

class ModernBertEncoder final : public Encoder {
 public:
  // Packs the layer matrices for the GEMM kernels in `precision` and frees
  // the plain copies in `weights` (see bert_weights.h for ModernBERT's use of
  // its fields); embeddings, norms and the head stay in F32.
  ModernBertEncoder(BertConfig config, BertWeights weights,
                    kernels::Precision precision = kernels::Precision::kF32);

  const Tensor& Forward(const PackedBatch& batch, EncoderWorkspace* ws) const override;

  // The head: pooling (first token, or the mean over the sequence's tokens
  // with classifier_pooling "mean"), head.dense, classifier_activation,
  // head.norm, then the classifier's logits [sequences, labels].
  void Classify(const PackedBatch& batch, const Tensor& hidden, EncoderWorkspace* ws,
                std::vector<float>* logits) const override;

  const BertConfig& config() const override { return config_; }
  const BertWeights& weights() const override { return weights_; }
  kernels::Precision precision() const override;
  size_t bytes() const override;

 private:
  struct PackedLayer {
    kernels::PackedLinear qkv;               // Wqkv, bias fused when present
    kernels::PackedLinear attention_output;  // attn.Wo
    kernels::PackedLinear input;             // mlp.Wi: [2I, H]
    kernels::PackedLinear output;            // mlp.Wo
  };

  // cos/sin tables [2 (global, local)][max_len][head_dim / 2][cos, sin].
  void RotaryTables(int64_t max_len, float* out) const;
  void Attention(const PackedBatch& batch, bool sliding, const float* rotary, int64_t max_len,
                 float* qkv, float* context, EncoderWorkspace* ws) const;

  BertConfig config_;
  BertWeights weights_;
  std::vector<PackedLayer> layers_;
};

}  // namespace mg::model
