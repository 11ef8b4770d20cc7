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

namespace mg::train {

// Token ids of sequences packed back to back (no padding), and their targets.
struct TrainBatch {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<int64_t> offsets = {0};
  std::vector<float> targets;  // class index per sequence, or [sequences, labels] values

  int64_t sequences() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t tokens() const { return static_cast<int64_t>(ids.size()); }
};

struct NetOptions {
  float hidden_dropout = 0.1f;     // embeddings, attention output, feed-forward output, pooler
  float attention_dropout = 0.1f;  // attention probabilities
  float layer_norm_eps = 1e-12f;
  model::ProblemType problem = model::ProblemType::kSingleLabel;
  // The last encoder layer computes only the [CLS] rows the pooler reads
  // (same logits and gradients; other dropout masks in that layer). Off
  // computes every row, as Hugging Face's BertForSequenceClassification does.
  bool last_layer_cls_only = true;
  // With a LoRA layout (frozen encoder): also compute d loss / d encoder
  // input (input_grad()), which training itself does not need.
  bool input_grad = false;
  // Precision of the linear layers' products, forward and backward (the
  // weight matrices of the encoder, pooler and classifier). In bf16 the net
  // keeps a bf16 copy of those matrices (SetWeights); everything else —
  // parameters, gradients, attention, LayerNorm, softmax, loss — is F32.
  kernels::GemmDtype dtype = kernels::GemmDtype::kF32;
};

class ClassifierNet {
 public:
  ClassifierNet(ParamLayout layout, NetOptions options);

  // Logits [sequences, labels] of the last Forward.
  const std::vector<float>& logits() const { return logits_; }

  // Call with the parameters before the first Forward and after every change
  // of them (each optimizer step): a bf16 net rounds its weight matrices to
  // bf16 here, once per step instead of once per product. F32: no work.
  void SetWeights(const float* params);

  // Forward pass; dropout on when `train` (masks drawn from `dropout_seed`).
  // A bf16 net needs SetWeights(params) first.
  void Forward(const float* params, const TrainBatch& batch, bool train, uint64_t dropout_seed);
  // Loss of the last Forward against batch.targets; zeroes `grads` and fills it
  // with d loss / d params. Call right after Forward with the same arguments.
  double Backward(const float* params, const TrainBatch& batch, float* grads);

  const ParamLayout& layout() const { return layout_; }
  // With a LoRA layout and NetOptions::input_grad: d loss / d (encoder input,
  // the embeddings after LayerNorm and dropout) [tokens, hidden] of the last
  // Backward.
  const std::vector<float>& input_grad() const { return grad_; }

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
  LinearPrecision Precision(size_t offset) const;

  ParamLayout layout_;
  NetOptions options_;
  // bf16 copies of the weight matrices: parameter offset -> offset in
  // weights_bf16_ (dtype bf16 only), and the parameters they were made from.
  std::vector<std::pair<size_t, size_t>> matrices_;  // (parameter offset, floats)
  std::vector<size_t> matrix_bf16_offsets_;
  std::vector<uint16_t> weights_bf16_;
  const float* weights_source_ = nullptr;
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
