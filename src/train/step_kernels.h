// Vectorised element-wise kernels of the training step: dropout masks (with
// an optional residual added in the same pass), GELU with its derivative,
// LayerNorm rows, column sums, the squared gradient norm and the AdamW update.
//
// One table per ISA (scalar, AVX2, AVX-512), chosen like the encoder kernels
// (kernels::ActiveIsa(), lowered by MG_ISA). Every table gives the same
// dropout masks; float results may differ in the last bits between ISAs but
// never with the thread count (kernels are single-threaded: callers split the
// work into fixed chunks). Tables are immutable; calls are thread-safe on
// disjoint outputs.
#pragma once

#include <cstdint>

namespace mg::train {

struct AdamWConstants {
  float beta1, beta2, eps, step_size, sqrt_correction2, decay, grad_scale;
};

struct StepKernelTable {
  // dst[i] = (keep(base + i) ? src[i] * scale : 0) + (residual ? residual[i] : 0),
  // with keep as DropoutKeep (16-bit uniform >= threshold, threshold <
  // 65536). dst may alias src or residual.
  void (*dropout)(const float* src, const float* residual, float* dst, int64_t n, uint64_t key,
                  uint64_t base, uint32_t threshold, float scale);
  // One row of the feed-forward activation: with z = x[c] + bias[c],
  // y[c] = gelu(z) and x[c] = gelu'(z) (overwritten), exact erf GELU.
  void (*bias_gelu_with_grad)(float* x, const float* bias, int64_t cols, float* y);
  // dx[i] = dy[i] * d[i]; dx may alias dy.
  void (*multiply)(const float* dy, const float* d, float* dx, int64_t n);
  // LayerNorm of `rows` rows of x (see LayerNormForward); y may alias x.
  void (*layer_norm)(const float* x, int64_t rows, int64_t cols, const float* gamma,
                     const float* beta, float eps, float* y, float* xhat, float* rstd);
  // The input gradient of LayerNorm for `rows` rows (see LayerNormBackward).
  void (*layer_norm_backward)(const float* dy, const float* xhat, const float* rstd,
                              const float* gamma, int64_t rows, int64_t cols, float* dx);
  // Column sums of a block of at most 64 columns (row stride ld), rows in
  // order: sum_a[c] += sum_r a[r][c] and, when b is given, sum_ab[c] +=
  // sum_r a[r][c] * b[r][c].
  void (*column_sums)(const float* a, const float* b, int64_t rows, int64_t cols, int64_t ld,
                      float* sum_a, float* sum_ab);
  // sum of g[i]^2 in double, in a fixed order.
  double (*sum_squares)(const float* g, int64_t n);
  // One AdamW update of n values (see AdamW::Step).
  void (*adamw)(float* p, const float* g, float* m, float* v, int64_t n, const AdamWConstants& c);
};

const StepKernelTable& StepKernels();
const StepKernelTable& ScalarStepKernels();
const StepKernelTable& Avx2StepKernels();    // only when kernels::IsaSupported(kAvx2)
const StepKernelTable& Avx512StepKernels();  // only when kernels::IsaSupported(kAvx512)

}  // namespace mg::train
