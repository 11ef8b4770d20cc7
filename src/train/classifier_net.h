// ClassifierNet: forward and backward passes of a sequence classifier of any
// encoder family (model/family.h): embeddings (token types and RoBERTa's
// positions after the padding id as the family says), post-LayerNorm encoder
// layers, the head over the first token (dense + tanh for BERT's pooler and
// RoBERTa's classification head, dense + ReLU for DistilBERT's
// pre_classifier), linear output; over a batch of packed sequences, on a
// flat parameter buffer laid out by ParamLayout.
//
// The net owns the activations of the last forward pass (kept for backward)
// and reuses them across batches. One net per training thread; not
// thread-safe itself (its ops use OpenMP inside).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "model/bert_config.h"
#include "train/ops.h"
#include "train/params.h"
#include "train/training_net.h"

namespace mg::train {

class ClassifierNet : public TrainingNet {
 public:
  ClassifierNet(ParamLayout layout, NetOptions options);

  const std::vector<float>& logits() const override { return logits_; }
  const ParamLayout& layout() const override { return layout_; }
  void SetWeights(const float* params) override;
  void Forward(const float* params, const TrainBatch& batch, bool train,
               uint64_t dropout_seed) override;
  double Backward(const float* params, const TrainBatch& batch, float* grads) override;
  const std::vector<float>& input_grad() const override { return grad_; }

 private:
  struct LayerActivations {
    std::vector<float> input;      // [T, H]
    std::vector<float> cls_input;  // [B, H]: input's [CLS] rows (last layer)
    std::vector<float> qkv;        // [T, 3H]
    std::vector<float> probs;      // attention probabilities
    std::vector<float> dropped;    // the same after dropout (train mode)
    std::vector<float> ctx;        // [T, H] ([B, H] in the last layer, as all below)
    std::vector<float> norm1_xhat, norm1_rstd, attention_out;  // attention_out = LN1 output
    std::vector<float> gelu_grad, gelu;  // [T, I]: gelu' and gelu of the pre-activation
    std::vector<float> norm2_xhat, norm2_rstd;
    std::vector<float> lora_query_xa, lora_value_xa;  // [T, rank]: x A^T (LoRA layouts)
  };

  // The precision of the product with the weight matrix at `offset`.
  LinearPrecision Precision(size_t offset) const { return bf16_.Precision(offset); }

  ParamLayout layout_;
  NetOptions options_;
  Bf16Matrices bf16_;
  bool train_ = false;
  uint64_t seed_ = 0;
  std::vector<LayerActivations> acts_;
  std::vector<int32_t> positions_;  // position ids (families that number them specially)
  std::vector<float> embed_xhat_, embed_rstd_,
      encoded_;  // encoded_: all rows of the encoder output when kept
  std::vector<float> cls_, cls_dropped_, pooled_, pooled_dropped_, logits_;
  // Backward scratch.
  std::vector<float> grad_, grad2_, grad_inter_, grad_qkv_, dlogits_, dpooled_, dcls_, lora_dxa_;
};

}  // namespace mg::train
