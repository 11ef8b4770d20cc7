// Encoder: the forward pass of an encoder model on a packed batch — the tokens
// of all sequences side by side, each sequence attending only to itself — so
// texts of different lengths cost what their tokens cost, with no padding.
// BertEncoder (BERT, DistilBERT, RoBERTa) and ModernBertEncoder implement it.
//
// An encoder holds shared read-only weights; Forward() and Classify() are
// thread-safe for distinct Workspaces. After a Workspace has seen the largest
// batch, they do not allocate.
#pragma once

#include <cstdint>
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
  Tensor rotary{DType::kF32, {0}};  // ModernBERT: cos/sin tables of the batch's positions
};

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Runs the encoder; returns the last hidden states [tokens, hidden] in
  // ws->hidden. Ids must be < vocab_size, type ids < type_vocab_size (any
  // when the family has no token types) and each sequence no longer than
  // config().max_tokens() (callers check).
  virtual const Tensor& Forward(const PackedBatch& batch, EncoderWorkspace* ws) const = 0;

  // The classification head on `hidden` (Forward's result): `logits` gets
  // [sequences, labels]. Requires a classifier.
  virtual void Classify(const PackedBatch& batch, const Tensor& hidden, EncoderWorkspace* ws,
                        std::vector<float>* logits) const = 0;

  virtual const BertConfig& config() const = 0;
  virtual const BertWeights& weights() const = 0;
  // What the packed linear layers run in (kernels::PackedLinear::precision()).
  virtual kernels::Precision precision() const = 0;
  // Bytes of parameters held (packed layers included).
  virtual size_t bytes() const = 0;
};

}  // namespace mg::model
