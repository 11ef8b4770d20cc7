#include "train/ops.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/status.h"
#include "kernels/kernels.h"
#include "train/step_kernels.h"

namespace mg::train {
namespace {

constexpr int64_t kColumnBlock = 64;

// out[c] += sum_r a[r][c], rows summed in order for every column.
void ColumnSumAccumulate(const float* a, int64_t rows, int64_t cols, float* out) {
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  const StepKernelTable& k = StepKernels();
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t begin = block * kColumnBlock;
    k.column_sums(a + begin, nullptr, rows, std::min(kColumnBlock, cols - begin), cols, out + begin,
                  nullptr);
  }
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Four 16-bit uniforms per hash: element `index` of site `key` (the step
// kernels compute the same bits, 32 elements at a time).
inline uint32_t DropoutBits(uint64_t key, uint64_t index) {
  const uint64_t h = SplitMix64(key ^ ((index >> 2) * 0xd1b54a32d192ed03ULL));
  return static_cast<uint32_t>(h >> (16 * (index & 3))) & 0xffffu;
}

inline uint32_t DropoutThreshold(float p) { return static_cast<uint32_t>(p * 65536.0f + 0.5f); }

std::vector<int64_t> ProbsOffsets(const SequenceOffsets& seqs, int64_t heads) {
  std::vector<int64_t> base(seqs.sequences + 1, 0);
  for (int64_t s = 0; s < seqs.sequences; ++s) {
    const int64_t len = seqs.length(s);
    base[s + 1] = base[s] + heads * len * len;
  }
  return base;
}

// LinearBackward's products in a low precision: dy is rounded once for both.
void LinearBackwardLowPrecision(const float* x, const float* dy, int64_t rows, int64_t in,
                                const float* weight, int64_t out, float* dx, bool accumulate_dx,
                                float* dweight, LinearPrecision precision) {
  if (rows == 0 || (dx == nullptr && dweight == nullptr)) {
    if (dx != nullptr && !accumulate_dx) std::fill(dx, dx + rows * in, 0.0f);
    return;
  }
  thread_local std::vector<uint16_t> dy_low, x_low;
  dy_low.resize(rows * out);
  kernels::ToBf16Parallel(dy, rows * out, dy_low.data());
  if (dx != nullptr)
    kernels::Gemm(precision.dtype, false, false, rows, in, out, 1.0f, nullptr, out, weight, in,
                  accumulate_dx ? 1.0f : 0.0f, dx, in, dy_low.data(), precision.weight_bf16);
  if (dweight != nullptr) {
    x_low.resize(rows * in);
    kernels::ToBf16Parallel(x, rows * in, x_low.data());
    kernels::Gemm(precision.dtype, true, false, out, in, rows, 1.0f, nullptr, out, nullptr, in,
                  1.0f, dweight, in, dy_low.data(), x_low.data());
  }
}

}  // namespace

void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t r = 0; r < m; ++r)
      for (int64_t col = 0; col < n; ++col) c[r * ldc + col] *= beta;
    return;
  }
  const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha,
                                          a, lda, b, ldb, beta, c, ldc);
  MG_CHECK_MSG(status == dnnl_success, "dnnl_sgemm failed");
}

void LinearForward(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
                   int64_t out, float* y, LinearPrecision precision) {
  if (precision.dtype == kernels::GemmDtype::kF32) {
    Gemm(false, true, rows, out, in, 1.0f, x, in, weight, in, 0.0f, y, out);
  } else if (rows > 0 && out > 0) {
    kernels::Gemm(precision.dtype, false, true, rows, out, in, 1.0f, x, in, weight, in, 0.0f, y,
                  out, nullptr, precision.weight_bf16);
  }
  if (bias == nullptr) return;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * out;
    for (int64_t c = 0; c < out; ++c) row[c] += bias[c];
  }
}

void LinearBackward(const float* x, const float* dy, int64_t rows, int64_t in, const float* weight,
                    int64_t out, float* dx, bool accumulate_dx, float* dweight, float* dbias,
                    LinearPrecision precision) {
  if (precision.dtype != kernels::GemmDtype::kF32) {
    LinearBackwardLowPrecision(x, dy, rows, in, weight, out, dx, accumulate_dx, dweight, precision);
    if (dbias != nullptr) ColumnSumAccumulate(dy, rows, out, dbias);
    return;
  }
  if (dx != nullptr)
    Gemm(false, false, rows, in, out, 1.0f, dy, out, weight, in, accumulate_dx ? 1.0f : 0.0f, dx,
         in);
  if (dweight != nullptr) Gemm(true, false, out, in, rows, 1.0f, dy, out, x, in, 1.0f, dweight, in);
  if (dbias != nullptr) ColumnSumAccumulate(dy, rows, out, dbias);
}

void LayerNormForward(const float* x, int64_t rows, int64_t cols, const float* gamma,
                      const float* beta, float eps, float* y, float* xhat, float* rstd) {
  constexpr int64_t kRows = 16;
  const StepKernelTable& k = StepKernels();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r += kRows) {
    k.layer_norm(x + r * cols, std::min(kRows, rows - r), cols, gamma, beta, eps, y + r * cols,
                 xhat + r * cols, rstd + r);
  }
}

void LayerNormBackward(const float* dy, const float* xhat, const float* rstd, const float* gamma,
                       int64_t rows, int64_t cols, float* dx, float* dgamma, float* dbeta) {
  // Parameter gradients first: dx may alias dy.
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  const StepKernelTable& k = StepKernels();
  const int64_t param_blocks = dgamma == nullptr ? 0 : blocks;
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < param_blocks; ++block) {
    const int64_t begin = block * kColumnBlock;
    k.column_sums(dy + begin, xhat + begin, rows, std::min(kColumnBlock, cols - begin), cols,
                  dbeta + begin, dgamma + begin);
  }
  constexpr int64_t kRows = 16;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r += kRows) {
    k.layer_norm_backward(dy + r * cols, xhat + r * cols, rstd + r, gamma,
                          std::min(kRows, rows - r), cols, dx + r * cols);
  }
}

void GeluForward(const float* x, int64_t n, float* y) {
  constexpr int64_t kChunk = 4096;
  const kernels::KernelTable& k = kernels::Kernels();
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += kChunk)
    k.gelu(x + begin, y + begin, std::min(kChunk, n - begin));
}

void GeluBackward(const float* x, const float* dy, int64_t n, float* dx) {
  constexpr int64_t kChunk = 4096;
  const kernels::KernelTable& k = kernels::Kernels();
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += kChunk)
    k.gelu_backward(x + begin, dy + begin, dx + begin, std::min(kChunk, n - begin));
}

void BiasGeluForward(float* x, const float* bias, int64_t rows, int64_t cols, float* y) {
  const StepKernelTable& k = StepKernels();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) k.bias_gelu_with_grad(x + r * cols, bias, cols, y + r * cols);
}

void GeluBackwardFromGrad(const float* grad, const float* dy, int64_t n, float* dx) {
  constexpr int64_t kChunk = 4096;
  const StepKernelTable& k = StepKernels();
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += kChunk)
    k.multiply(dy + begin, grad + begin, dx + begin, std::min(kChunk, n - begin));
}

void GegluForward(const float* x, int64_t rows, int64_t cols, float* act, float* y) {
  const kernels::KernelTable& k = kernels::Kernels();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* input = x + r * 2 * cols;
    const float* gate = input + cols;
    float* a = act + r * cols;
    float* out = y + r * cols;
    k.gelu(input, a, cols);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) out[c] = a[c] * gate[c];
  }
}

void GegluBackward(const float* x, const float* act, const float* dy, int64_t rows, int64_t cols,
                   float* dx) {
  const kernels::KernelTable& k = kernels::Kernels();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* input = x + r * 2 * cols;
    const float* gate = input + cols;
    const float* a = act + r * cols;
    const float* d = dy + r * cols;
    float* dinput = dx + r * 2 * cols;
    float* dgate = dinput + cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
      dgate[c] = d[c] * a[c];
      dinput[c] = d[c] * gate[c];
    }
    k.gelu_backward(input, dinput, dinput, cols);
  }
}

void TanhForward(const float* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void TanhBackward(const float* y, const float* dy, int64_t n, float* dx) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

bool DropoutKeep(uint64_t key, uint64_t index, float p) {
  return DropoutBits(key, index) >= DropoutThreshold(p);
}

void Dropout(float* x, int64_t n, uint64_t key, float p) { Dropout(x, nullptr, x, n, key, p); }

void Dropout(const float* src, const float* residual, float* dst, int64_t n, uint64_t key,
             float p) {
  if (p <= 0.0f && residual == nullptr) {
    if (dst != src) std::memcpy(dst, src, n * sizeof(float));
    return;
  }
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunk;
    const int64_t count = std::min(kChunk, n - begin);
    const float* add = residual != nullptr ? residual + begin : nullptr;
    if (p <= 0.0f) {
      for (int64_t i = 0; i < count; ++i) dst[begin + i] = src[begin + i] + add[i];
    } else {
      DropoutRange(src + begin, add, dst + begin, count, key, static_cast<uint64_t>(begin), p);
    }
  }
}

void DropoutRange(const float* src, const float* residual, float* dst, int64_t n, uint64_t key,
                  uint64_t base, float p) {
  const uint32_t threshold = DropoutThreshold(p);
  const float scale = 1.0f / (1.0f - p);
  if (threshold < 65536) {
    StepKernels().dropout(src, residual, dst, n, key, base, threshold, scale);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float kept =
        DropoutBits(key, base + static_cast<uint64_t>(i)) >= threshold ? src[i] * scale : 0.0f;
    dst[i] = residual != nullptr ? kept + residual[i] : kept;
  }
}
uint64_t DropoutKey(uint64_t seed, uint64_t step, uint64_t site) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ step) ^ site);
}

int64_t AttentionProbsFloats(const SequenceOffsets& seqs, int64_t heads) {
  return ProbsOffsets(seqs, heads).back();
}

void AttentionForward(const float* qkv, const SequenceOffsets& seqs, int64_t heads,
                      int64_t head_dim, float p, uint64_t key, float* probs, float* dropped,
                      float* ctx, int64_t radius) {
  const int64_t hidden = heads * head_dim;
  const int64_t ld = 3 * hidden;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const std::vector<int64_t> base = ProbsOffsets(seqs, heads);
  const int64_t pairs = seqs.sequences * heads;
  const kernels::KernelTable& softmax = kernels::Kernels();
#pragma omp parallel
  {
#pragma omp for schedule(dynamic, 1)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t s = pair / heads, head = pair % heads;
      const int64_t len = seqs.length(s);
      const int64_t start = seqs.offsets[s];
      const float* q = qkv + start * ld + head * head_dim;
      const float* k = q + hidden;
      const float* v = q + 2 * hidden;
      const int64_t offset = base[s] + head * len * len;
      float* prob = probs + offset;
      Gemm(false, true, len, len, head_dim, scale, q, ld, k, ld, 0.0f, prob, len);
      if (radius < 0 || radius + 1 >= len) {
        for (int64_t i = 0; i < len; ++i) softmax.masked_softmax(prob + i * len, len, len);
      } else {
        for (int64_t i = 0; i < len; ++i) {
          float* row = prob + i * len;
          const int64_t lo = std::max<int64_t>(0, i - radius);
          const int64_t hi = std::min(len, i + radius + 1);
          std::fill(row, row + lo, 0.0f);
          std::fill(row + hi, row + len, 0.0f);
          softmax.masked_softmax(row + lo, hi - lo, hi - lo);
        }
      }
      const float* weights = prob;
      if (p > 0.0f) {
        DropoutRange(prob, nullptr, dropped + offset, len * len, key, static_cast<uint64_t>(offset),
                     p);
        weights = dropped + offset;
      }
      Gemm(false, false, len, head_dim, len, 1.0f, weights, len, v, ld, 0.0f,
           ctx + start * hidden + head * head_dim, hidden);
    }
  }
}

void AttentionBackward(const float* qkv, const float* probs, const float* dropped,
                       const float* dctx, const SequenceOffsets& seqs, int64_t heads,
                       int64_t head_dim, float p, float* dqkv) {
  const int64_t hidden = heads * head_dim;
  const int64_t ld = 3 * hidden;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const std::vector<int64_t> base = ProbsOffsets(seqs, heads);
  const int64_t pairs = seqs.sequences * heads;
#pragma omp parallel
  {
    std::vector<float> dprob;
#pragma omp for schedule(dynamic, 1)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t s = pair / heads, head = pair % heads;
      const int64_t len = seqs.length(s);
      const int64_t start = seqs.offsets[s];
      const int64_t column = head * head_dim;
      const float* q = qkv + start * ld + column;
      const float* k = q + hidden;
      const float* v = q + 2 * hidden;
      float* dq = dqkv + start * ld + column;
      float* dk = dq + hidden;
      float* dv = dq + 2 * hidden;
      const float* dout = dctx + start * hidden + column;
      const int64_t offset = base[s] + head * len * len;
      const float* prob = probs + offset;
      const float* weights = p > 0.0f ? dropped + offset : prob;
      dprob.resize(len * len);
      Gemm(false, true, len, len, head_dim, 1.0f, dout, hidden, v, ld, 0.0f, dprob.data(), len);
      Gemm(true, false, len, head_dim, len, 1.0f, weights, len, dout, hidden, 0.0f, dv, ld);
      if (p > 0.0f) {
        const float keep_scale = 1.0f / (1.0f - p);
        float* d = dprob.data();
#pragma omp simd
        for (int64_t i = 0; i < len * len; ++i)
          d[i] = weights[i] != 0.0f ? d[i] * keep_scale : 0.0f;
      }
      for (int64_t i = 0; i < len; ++i) {
        float* drow = dprob.data() + i * len;
        const float* prow = prob + i * len;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < len; ++j) dot += drow[j] * prow[j];
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) drow[j] = prow[j] * (drow[j] - dot);
      }
      Gemm(false, false, len, head_dim, len, scale, dprob.data(), len, k, ld, 0.0f, dq, ld);
      Gemm(true, false, len, head_dim, len, scale, dprob.data(), len, q, ld, 0.0f, dk, ld);
    }
  }
}

void EmbeddingForward(const int32_t* ids, const int32_t* type_ids, const SequenceOffsets& seqs,
                      const float* word, const float* position, const float* token_type,
                      int64_t hidden, float* x, const int32_t* position_ids) {
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < seqs.sequences; ++s) {
    for (int64_t t = seqs.offsets[s]; t < seqs.offsets[s + 1]; ++t) {
      const float* w = word + static_cast<int64_t>(ids[t]) * hidden;
      const int64_t p = position_ids ? position_ids[t] : t - seqs.offsets[s];
      const float* pos = position + p * hidden;
      float* out = x + t * hidden;
      if (token_type) {
        const float* type = token_type + static_cast<int64_t>(type_ids[t]) * hidden;
        for (int64_t c = 0; c < hidden; ++c) out[c] = w[c] + pos[c] + type[c];
      } else {
        for (int64_t c = 0; c < hidden; ++c) out[c] = w[c] + pos[c];
      }
    }
  }
}

void EmbeddingBackward(const int32_t* ids, const int32_t* type_ids, const SequenceOffsets& seqs,
                       const float* dx, int64_t hidden, float* dword, float* dposition,
                       float* dtoken_type, const int32_t* position_ids) {
  // Tokens in order within each block of columns: rows of repeated ids are
  // summed in the same order for any thread count.
  const int64_t blocks = (hidden + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t begin = block * kColumnBlock;
    const int64_t end = std::min(hidden, begin + kColumnBlock);
    for (int64_t s = 0; s < seqs.sequences; ++s) {
      for (int64_t t = seqs.offsets[s]; t < seqs.offsets[s + 1]; ++t) {
        const float* g = dx + t * hidden;
        float* w = dword + static_cast<int64_t>(ids[t]) * hidden;
        const int64_t p = position_ids ? position_ids[t] : t - seqs.offsets[s];
        float* pos = dposition + p * hidden;
        for (int64_t c = begin; c < end; ++c) {
          w[c] += g[c];
          pos[c] += g[c];
        }
        if (dtoken_type) {
          float* type = dtoken_type + static_cast<int64_t>(type_ids[t]) * hidden;
          for (int64_t c = begin; c < end; ++c) type[c] += g[c];
        }
      }
    }
  }
}

}  // namespace mg::train
