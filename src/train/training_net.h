// TrainingNet: the forward and backward passes of a sequence classifier over
// a flat parameter buffer (ParamLayout), whatever its encoder family;
// MakeTrainingNet picks the implementation for the layout's family
// (ClassifierNet for the post-LayerNorm families, ModernBertNet for
// ModernBERT).
//
// A net owns the activations of its last forward pass and reuses them across
// batches. One net per training thread; not thread-safe itself (its ops use
// OpenMP inside).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "kernels/gemm_bf16.h"
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
  // ClassifierNet only.
  bool last_layer_cls_only = true;
  // With a LoRA layout (frozen encoder): also compute d loss / d encoder
  // input (input_grad()), which training itself does not need.
  bool input_grad = false;
  // Precision of the linear layers' products, forward and backward (the
  // weight matrices of the encoder and the head). In bf16 the net keeps a
  // bf16 copy of those matrices (SetWeights); everything else — parameters,
  // gradients, attention, LayerNorm, softmax, loss — is F32.
  kernels::GemmDtype dtype = kernels::GemmDtype::kF32;
};

class TrainingNet {
 public:
  virtual ~TrainingNet() = default;

  // Logits [sequences, labels] of the last Forward.
  virtual const std::vector<float>& logits() const = 0;
  virtual const ParamLayout& layout() const = 0;

  // Call with the parameters before the first Forward and after every change
  // of them (each optimizer step): a bf16 net rounds its weight matrices to
  // bf16 here, once per step instead of once per product. F32: no work.
  virtual void SetWeights(const float* params) = 0;

  // Forward pass; dropout on when `train` (masks drawn from `dropout_seed`).
  // A bf16 net needs SetWeights(params) first.
  virtual void Forward(const float* params, const TrainBatch& batch, bool train,
                       uint64_t dropout_seed) = 0;
  // Loss of the last Forward against batch.targets; zeroes `grads` and fills it
  // with d loss / d params. Call right after Forward with the same arguments.
  virtual double Backward(const float* params, const TrainBatch& batch, float* grads) = 0;

  // With a LoRA layout and NetOptions::input_grad: d loss / d (encoder input,
  // the embeddings after LayerNorm and dropout) [tokens, hidden] of the last
  // Backward.
  virtual const std::vector<float>& input_grad() const = 0;
};

std::unique_ptr<TrainingNet> MakeTrainingNet(ParamLayout layout, NetOptions options);

// The bf16 copies of a net's weight matrices (NetOptions::dtype bf16): the
// matrices are named by their parameter offsets once, rounded by Set after
// each change of the parameters, and found by Precision for each product.
class Bf16Matrices {
 public:
  // `matrices`: (parameter offset, floats) of each matrix. F32: keeps nothing.
  Bf16Matrices(kernels::GemmDtype dtype, std::vector<std::pair<size_t, size_t>> matrices);

  void Set(const float* params);
  // Whether Set last saw `params` (always true in F32).
  bool IsSetFrom(const float* params) const;
  // The precision of the product with the weight matrix at `offset`.
  LinearPrecision Precision(size_t offset) const;

 private:
  kernels::GemmDtype dtype_;
  std::vector<std::pair<size_t, size_t>> matrices_;  // (parameter offset, floats), sorted
  std::vector<size_t> bf16_offsets_;
  std::vector<uint16_t> weights_;
  const float* source_ = nullptr;
};

}  // namespace mg::train
