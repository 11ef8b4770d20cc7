// Scalar reference kernels: straightforward loops in double-checked float
// arithmetic; the oracle that vector variants are tested against.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kernels.h"

namespace mg::kernels {
namespace {

void AddBias(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] += bias[c];
  }
}

void BiasGelu(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c] + bias[c];
      x[r * cols + c] = 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f));
    }
  }
}

void BiasTanh(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] = std::tanh(x[r * cols + c] + bias[c]);
  }
}

void BiasResidualLayerNorm(float* x, const float* bias, const float* residual, const float* gamma,
                           const float* beta, int64_t rows, int64_t cols, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) {
      float v = row[c];
      if (bias) v += bias[c];
      if (residual) v += residual[r * cols + c];
      row[c] = v;
      sum += v;
    }
    const double mean = sum / static_cast<double>(cols);
    double var = 0;
    for (int64_t c = 0; c < cols; ++c) var += (row[c] - mean) * (row[c] - mean);
    var /= static_cast<double>(cols);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < cols; ++c) {
      row[c] = static_cast<float>((row[c] - mean) * inv) * gamma[c] + beta[c];
    }
  }
}

void MaskedSoftmax(float* row, int64_t n, int64_t valid) {
  float max = -INFINITY;
  for (int64_t j = 0; j < valid; ++j) max = row[j] > max ? row[j] : max;
  double sum = 0;
  for (int64_t j = 0; j < valid; ++j) {
    row[j] = std::exp(row[j] - max);
    sum += row[j];
  }
  const float inv = valid > 0 ? static_cast<float>(1.0 / sum) : 0.0f;
  for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
  for (int64_t j = valid; j < n; ++j) row[j] = 0.0f;
}

void AttentionHeadWindow(const float* q, const float* k, const float* v, int64_t qkv_stride,
                         float* out, int64_t out_stride, int64_t seq_len, int64_t head_dim,
                         float scale, int64_t radius, float* scores) {
  for (int64_t i = 0; i < seq_len; ++i) {
    const int64_t first = std::max<int64_t>(0, i - radius);
    const int64_t count = std::min(seq_len, i + radius + 1) - first;
    for (int64_t j = 0; j < count; ++j) {
      float dot = 0;
      for (int64_t d = 0; d < head_dim; ++d)
        dot += q[i * qkv_stride + d] * k[(first + j) * qkv_stride + d];
      scores[j] = dot * scale;
    }
    MaskedSoftmax(scores, count, count);
    for (int64_t d = 0; d < head_dim; ++d) {
      float acc = 0;
      for (int64_t j = 0; j < count; ++j) acc += scores[j] * v[(first + j) * qkv_stride + d];
      out[i * out_stride + d] = acc;
    }
  }
}

void AttentionHead(const float* q, const float* k, const float* v, int64_t qkv_stride, float* out,
                   int64_t out_stride, int64_t seq_len, int64_t head_dim, float scale,
                   float* scores) {
  AttentionHeadWindow(q, k, v, qkv_stride, out, out_stride, seq_len, head_dim, scale, seq_len,
                      scores);
}

void Gelu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void GeluBackward(const float* x, const float* dy, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + std::erf(v * 0.70710678118654752f));
    const float pdf = 0.3989422804014327f * std::exp(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

float MaxAbs(const float* x, int64_t n) {
  float max = 0.0f;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, std::fabs(x[i]));
  return max;
}

void QuantizeS8(const float* x, int64_t n, float inverse, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    // Round half to even for |v| < 2^22 without a libm call (the FPU rounds
    // the sum); larger values are clamped anyway.
    constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
    const float v = std::clamp(((x[i] * inverse) + kMagic) - kMagic, -127.0f, 127.0f);
    q[i] = static_cast<int8_t>(static_cast<int32_t>(v));
  }
}

void ToBf16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof(bits));
    const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    out[i] = static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded);
  }
}

}  // namespace

const KernelTable& ScalarKernels() {
  static const KernelTable table = {AddBias,
                                    BiasGelu,
                                    BiasTanh,
                                    BiasResidualLayerNorm,
                                    MaskedSoftmax,
                                    AttentionHead,
                                    AttentionHeadWindow,
                                    Gelu,
                                    GeluBackward,
                                    MaxAbs,
                                    QuantizeS8,
                                    ToBf16};
  return table;
}

const KernelTable& KernelsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return Avx512Kernels();
    case Isa::kAvx2:
      return Avx2Kernels();
    default:
      return ScalarKernels();
  }
}

const KernelTable& Kernels() {
  static const KernelTable& table = KernelsFor(ActiveIsa());
  return table;
}

}  // namespace mg::kernels
