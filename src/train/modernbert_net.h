// ModernBertNet: forward and backward passes of a ModernBERT sequence
// classifier (Hugging Face's ModernBertForSequenceClassification) on a flat
// parameter buffer laid out by ParamLayout: token embeddings and their norm;
// pre-norm layers (attn_norm, the identity in layer 0; fused Wqkv; rotary
// embeddings with the global or local theta; global or sliding-window
// attention; Wo; residual; mlp_norm; GeGLU through mlp.Wi and mlp.Wo;
// residual); final_norm; pooling (first token or mean); head.dense, the
// classifier activation, head.norm; classifier. Biases and norm biases exist
// as the layout says.
//
// Dropout sites, as ModernBERT places them: after the embedding norm, after
// the GeGLU product and after the head (NetOptions::hidden_dropout, as its
// embedding_dropout, mlp_dropout and classifier_dropout); on the attention
// probabilities and after attn.Wo (NetOptions::attention_dropout). With a
// LoRA layout the adapter is on Wqkv and only it and the head train.
#pragma once

#include <cstdint>
#include <vector>

#include "train/training_net.h"

namespace mg::train {

class ModernBertNet : public TrainingNet {
 public:
  ModernBertNet(ParamLayout layout, NetOptions options);

  const std::vector<float>& logits() const override { return logits_; }
  const ParamLayout& layout() const override { return layout_; }
  void SetWeights(const float* params) override { bf16_.Set(params); }
  void Forward(const float* params, const TrainBatch& batch, bool train,
               uint64_t dropout_seed) override;
  double Backward(const float* params, const TrainBatch& batch, float* grads) override;
  const std::vector<float>& input_grad() const override { return grad_; }

 private:
  struct LayerActivations {
    std::vector<float> input;                              // [T, H]: the residual stream in
    std::vector<float> attn_normed, attn_xhat, attn_rstd;  // attn_norm (layers after the first)
    std::vector<float> qkv;                                // [T, 3H], query and key rotated
    std::vector<float> probs, dropped;                     // attention probabilities
    std::vector<float> ctx;                                // [T, H]
    std::vector<float> mid;                                // [T, H]: input + attention branch
    std::vector<float> mlp_normed, mlp_xhat, mlp_rstd;     // mlp_norm
    std::vector<float> wide;                               // [T, 2I]: mlp.Wi's output
    std::vector<float> act;                                // [T, I]: gelu of its input half
    std::vector<float> gated;                              // [T, I]: GeGLU output after dropout
    std::vector<float> lora_xa;                            // [T, rank] (LoRA layouts)
  };

  LinearPrecision Precision(size_t offset) const { return bf16_.Precision(offset); }
  // A norm's beta: the layout's, or zeros when the norms have no bias.
  const float* Beta(const float* params, size_t offset) const;
  // Rotates (forward) or rotates back (inverse) the query and key columns of
  // `qkv` [T, 3H] by each token's position in its sequence.
  void Rotate(float* qkv, const TrainBatch& batch, bool sliding, bool inverse) const;

  ParamLayout layout_;
  NetOptions options_;
  Bf16Matrices bf16_;
  bool train_ = false;
  uint64_t seed_ = 0;
  std::vector<float> zeros_;                         // [H]: beta of bias-free norms
  std::vector<float> rotary_global_, rotary_local_;  // [positions, head_dim/2] (cos, sin) pairs
  std::vector<LayerActivations> acts_;
  std::vector<int32_t> positions_;  // each token's position in its sequence
  std::vector<float> embed_xhat_, embed_rstd_;
  std::vector<float> final_, final_xhat_, final_rstd_;  // final_norm's output [T, H]
  std::vector<float> pooled_, head_pre_, head_act_, head_xhat_, head_rstd_, head_out_, logits_;
  // Backward scratch.
  std::vector<float> grad_, grad2_, grad_wide_, grad_inter_, grad_qkv_, dlogits_, dhead_, dpooled_,
      dbeta_scratch_, lora_dxa_;
};

}  // namespace mg::train
