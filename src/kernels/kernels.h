// Fused element-wise, normalisation and attention kernels of the encoder.
//
// Kernels work on raw pointers and sizes, never allocate, and are
// single-threaded: callers parallelise over rows or heads. Each ISA provides
// the same table; the scalar one is the reference the others are tested
// against. Tables are immutable; calls are thread-safe on disjoint outputs.
#pragma once

#include <cstdint>

#include "kernels/isa.h"

namespace mg::kernels {

struct KernelTable {
  // x[r][c] += bias[c]
  void (*add_bias)(float* x, const float* bias, int64_t rows, int64_t cols);
  // x[r][c] = gelu(x[r][c] + bias[c]) with the exact (erf) GELU.
  void (*bias_gelu)(float* x, const float* bias, int64_t rows, int64_t cols);
  // x[r][c] = tanh(x[r][c] + bias[c])  (the BERT pooler)
  void (*bias_tanh)(float* x, const float* bias, int64_t rows, int64_t cols);
  // x[r] = LayerNorm(x[r] + bias + residual[r]) * gamma + beta; bias and
  // residual may be null. Row strides equal cols.
  void (*bias_residual_layernorm)(float* x, const float* bias, const float* residual,
                                  const float* gamma, const float* beta, int64_t rows, int64_t cols,
                                  float eps);
  // Softmax over row[0..valid); row[valid..n) set to 0 (masked positions).
  void (*masked_softmax)(float* row, int64_t n, int64_t valid);
  // One attention head of one sequence: out[i] = sum_j softmax_j(scale *
  // q[i].k[j]) v[j], for i, j < seq_len. q/k/v/out rows are head_dim floats
  // at the given row strides. `scratch` has room for
  // AttentionScratchFloats(seq_len, head_dim) floats.
  void (*attention_head)(const float* q, const float* k, const float* v, int64_t qkv_stride,
                         float* out, int64_t out_stride, int64_t seq_len, int64_t head_dim,
                         float scale, float* scores);
  // attention_head where query i attends only to the keys j with |i - j| <=
  // radius (sliding-window attention, ModernBERT's local layers); the same
  // scratch. A radius of seq_len or more is attention_head.
  void (*attention_head_window)(const float* q, const float* k, const float* v, int64_t qkv_stride,
                                float* out, int64_t out_stride, int64_t seq_len, int64_t head_dim,
                                float scale, int64_t radius, float* scores);
  // Training: y[i] = gelu(x[i]) (exact GELU) and dx[i] = dy[i] * gelu'(x[i])
  // over n values; dx may alias dy.
  void (*gelu)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n);
  // int8 quantisation (kernels/quantize.h): the largest |x[i]| over n values
  // (NaNs skipped; 0 for n == 0), and q[i] = clamp(round-half-even(x[i] *
  // inverse), -127, 127).
  float (*max_abs)(const float* x, int64_t n);
  void (*quantize_s8)(const float* x, int64_t n, float inverse, int8_t* q);
  // bfloat16 bits of x[i], rounded to nearest even (NaN stays NaN).
  void (*to_bf16)(const float* x, int64_t n, uint16_t* out);
};

// Scratch an attention_head call needs.
inline int64_t AttentionScratchFloats(int64_t seq_len, int64_t head_dim) {
  return (head_dim + 4) * seq_len;
}

const KernelTable& ScalarKernels();
const KernelTable& Avx2Kernels();    // only call when IsaSupported(kAvx2)
const KernelTable& Avx512Kernels();  // only call when IsaSupported(kAvx512)

// The table for `isa` (which must be supported).
const KernelTable& KernelsFor(Isa isa);
// The table for ActiveIsa().
const KernelTable& Kernels();

}  // namespace mg::kernels
