// Self-attention for the first token ([CLS]) of every sequence only: what the
// last encoder layer of a sequence classifier needs, since the pooler reads
// nothing else. Keys and values still come from every token; the results and
// gradients equal those of AttentionForward/AttentionBackward restricted to
// the [CLS] rows (other rows' outputs do not reach the loss).
//
// Thread-safe on disjoint outputs; OpenMP over (sequence, head) pairs, with
// results independent of the thread count.
#pragma once

#include <cstdint>

#include "train/ops.h"

namespace mg::train {

// Floats of saved probabilities: heads * tokens.
inline int64_t ClsAttentionProbsFloats(const SequenceOffsets& seqs, int64_t heads) {
  return heads * seqs.tokens();
}

// ctx [sequences, hidden] = attention of each sequence's first query over its
// keys and values in qkv [tokens, 3*hidden]. Keeps the probabilities (and,
// when p > 0, the probabilities after dropout with `key`) as AttentionForward.
void ClsAttentionForward(const float* qkv, const SequenceOffsets& seqs, int64_t heads,
                         int64_t head_dim, float p, uint64_t key, float* probs, float* dropped,
                         float* ctx);
// dqkv [tokens, 3*hidden] (overwritten; query rows other than [CLS] are 0)
// from dctx [sequences, hidden].
void ClsAttentionBackward(const float* qkv, const float* probs, const float* dropped,
                          const float* dctx, const SequenceOffsets& seqs, int64_t heads,
                          int64_t head_dim, float p, float* dqkv);

}  // namespace mg::train
