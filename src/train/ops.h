// Training ops: forward passes that keep what their backward passes need, and
// the backward passes, for every op of a BERT sequence classifier.
//
// Shapes are row-major; weights use PyTorch's [out_features, in_features]
// layout. Gradients of parameters are accumulated (+=); gradients of inputs
// are overwritten unless the argument says otherwise. Matrix products run
// through oneDNN's sgemm; reductions run in a fixed order so that results
// depend only on the inputs and the thread count. Functions are thread-safe
// on disjoint outputs and may use OpenMP internally.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/gemm_bf16.h"

namespace mg::train {

// C[m,n] = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T when the
// flag is set.
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The precision of a linear op's matrix products (kernels/gemm_bf16.h): F32,
// or bf16 operands with F32 accumulation and F32 results. In bf16,
// `weight_bf16` is the weight already rounded to bf16 (once per optimizer
// step); null rounds it on every call. Bias, outputs and gradients stay F32.
struct LinearPrecision {
  kernels::GemmDtype dtype = kernels::GemmDtype::kF32;
  const uint16_t* weight_bf16 = nullptr;
};

// y[rows, out] = x[rows, in] W^T + b.
void LinearForward(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
                   int64_t out, float* y, LinearPrecision precision = {});
// dW += dy^T x, db += sum_rows dy, dx = dy W (or += when accumulate_dx).
// A null dx, dweight or dbias skips that product (a frozen weight costs no
// weight gradient). In bf16, dy and x are rounded once per call; dW and db
// accumulate in F32.
void LinearBackward(const float* x, const float* dy, int64_t rows, int64_t in, const float* weight,
                    int64_t out, float* dx, bool accumulate_dx, float* dweight, float* dbias,
                    LinearPrecision precision = {});

// y = (x - mean) * rstd * gamma + beta per row; keeps xhat [rows, cols] and
// rstd [rows]. y may alias x.
void LayerNormForward(const float* x, int64_t rows, int64_t cols, const float* gamma,
                      const float* beta, float eps, float* y, float* xhat, float* rstd);
// dx = LayerNorm'(dy) (overwritten; may alias dy), dgamma/dbeta accumulated
// (skipped when both are null: frozen).
void LayerNormBackward(const float* dy, const float* xhat, const float* rstd, const float* gamma,
                       int64_t rows, int64_t cols, float* dx, float* dgamma, float* dbeta);

// y = gelu(x) with the exact (erf) GELU, over n values.
void GeluForward(const float* x, int64_t n, float* y);
// dx = dy * gelu'(x); dx may alias dy.
void GeluBackward(const float* x, const float* dy, int64_t n, float* dx);

// The feed-forward activation fused with its bias: x [rows, cols] holds the
// product without bias; y = gelu(x + bias), and x is overwritten with
// gelu'(x + bias) for GeluBackwardFromGrad (no erf in the backward pass).
void BiasGeluForward(float* x, const float* bias, int64_t rows, int64_t cols, float* y);
// dx = dy * grad with `grad` from BiasGeluForward; dx may alias dy.
void GeluBackwardFromGrad(const float* grad, const float* dy, int64_t n, float* dx);

// The gated feed-forward activation (GeGLU, ModernBERT's MLP): x [rows,
// 2*cols] holds the input half then the gate half of each row; y [rows, cols]
// = gelu(input) * gate with the exact GELU, keeping gelu(input) in `act`.
void GegluForward(const float* x, int64_t rows, int64_t cols, float* act, float* y);
// dx [rows, 2*cols] (overwritten) from dy [rows, cols]: d input = dy * gate
// * gelu'(input), d gate = dy * gelu(input).
void GegluBackward(const float* x, const float* act, const float* dy, int64_t rows, int64_t cols,
                   float* dx);

// y = tanh(x); dx = dy * (1 - y^2) (dx may alias dy).
void TanhForward(const float* x, int64_t n, float* y);
void TanhBackward(const float* y, const float* dy, int64_t n, float* dx);

// Inverted dropout with a counter-based mask: element `index` of site `key`
// is kept with probability 1 - p, independent of threads and call order.
// The same (key, p) gives the same mask in forward and backward.
bool DropoutKeep(uint64_t key, uint64_t index, float p);
// x[i] = keep ? x[i] / (1 - p) : 0, in place (forward and backward alike).
void Dropout(float* x, int64_t n, uint64_t key, float p);
// dst[i] = dropout(src)[i] + residual[i] (residual may be null); dst may
// alias src or residual. One pass over memory.
void Dropout(const float* src, const float* residual, float* dst, int64_t n, uint64_t key, float p);
// Elements base .. base + n of a site, single-threaded: dst[i] =
// dropout(src)[base + i] + residual[i] (residual may be null).
void DropoutRange(const float* src, const float* residual, float* dst, int64_t n, uint64_t key,
                  uint64_t base, float p);
// A site key from the run's seed, the step and a site number.
uint64_t DropoutKey(uint64_t seed, uint64_t step, uint64_t site);

// Packed sequences: sequence s holds tokens offsets[s] .. offsets[s+1]; no
// padding anywhere, so attention never sees a padded key.
struct SequenceOffsets {
  const int64_t* offsets = nullptr;
  int64_t sequences = 0;
  int64_t tokens() const { return offsets[sequences]; }
  int64_t length(int64_t s) const { return offsets[s + 1] - offsets[s]; }
};

// Floats of saved attention probabilities: sum over sequences of heads*len^2.
int64_t AttentionProbsFloats(const SequenceOffsets& seqs, int64_t heads);

// Multi-head self-attention over qkv [tokens, 3*hidden] (query, key, value
// columns): ctx [tokens, hidden]. Keeps the softmax probabilities in `probs`
// and, when p > 0, the probabilities after dropout (mask from `key`) in
// `dropped` (each AttentionProbsFloats; `dropped` unused when p == 0).
// With `radius` >= 0 (a sliding-window layer) query i attends to keys j with
// |i - j| <= radius only: the other probabilities are exactly zero, so
// AttentionBackward needs no radius.
void AttentionForward(const float* qkv, const SequenceOffsets& seqs, int64_t heads,
                      int64_t head_dim, float p, uint64_t key, float* probs, float* dropped,
                      float* ctx, int64_t radius = -1);
// dqkv [tokens, 3*hidden] (overwritten) from dctx [tokens, hidden]. The
// dropout mask is read back from `dropped` (a zero there where the
// probability is non-zero means dropped; where the probability is zero the
// gradient is zero either way).
void AttentionBackward(const float* qkv, const float* probs, const float* dropped,
                       const float* dctx, const SequenceOffsets& seqs, int64_t heads,
                       int64_t head_dim, float p, float* dqkv);

// x[t] = word[ids[t]] + position[p(t)] + token_type[type_ids[t]], where p(t)
// is position_ids[t] when given, else t - seq start. A null token_type
// (a family without token types) adds nothing and gets no gradient.
void EmbeddingForward(const int32_t* ids, const int32_t* type_ids, const SequenceOffsets& seqs,
                      const float* word, const float* position, const float* token_type,
                      int64_t hidden, float* x, const int32_t* position_ids = nullptr);
void EmbeddingBackward(const int32_t* ids, const int32_t* type_ids, const SequenceOffsets& seqs,
                       const float* dx, int64_t hidden, float* dword, float* dposition,
                       float* dtoken_type, const int32_t* position_ids = nullptr);

}  // namespace mg::train
