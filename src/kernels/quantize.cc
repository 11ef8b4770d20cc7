#include "kernels/quantize.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mg::kernels {
namespace {

// Inputs smaller than this are converted on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 16;

// Round half to even for |v| < 2^22 without a libm call, so the loop
// vectorises on the baseline ISA (the sum is rounded by the FPU itself).
inline float RoundEven(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

float MaxAbs(const float* x, int64_t n) {
  float max = 0.0f;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, std::fabs(x[i]));
  return max;
}

void QuantizeWithScale(const float* x, int64_t n, float inverse, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::clamp(RoundEven(x[i] * inverse), -kInt8Max, kInt8Max);
    q[i] = static_cast<int8_t>(static_cast<int32_t>(v));
  }
}

float ScaleFor(float max_abs) { return max_abs > 0.0f ? max_abs / kInt8Max : 1.0f; }

}  // namespace

void QuantizeRowsS8(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scales) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    scales[r] = ScaleFor(MaxAbs(row, cols));
    QuantizeWithScale(row, cols, 1.0f / scales[r], q + r * cols);
  }
}

float QuantizeS8(const float* x, int64_t n, int8_t* q) {
  if (n < kParallelElements) {
    const float scale = ScaleFor(MaxAbs(x, n));
    QuantizeWithScale(x, n, 1.0f / scale, q);
    return scale;
  }
  const int64_t chunk = 4096;
  float max = 0.0f;
#pragma omp parallel for schedule(static) reduction(max : max)
  for (int64_t begin = 0; begin < n; begin += chunk) {
    max = std::max(max, MaxAbs(x + begin, std::min(chunk, n - begin)));
  }
  const float scale = ScaleFor(max);
  const float inverse = 1.0f / scale;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += chunk) {
    QuantizeWithScale(x + begin, std::min(chunk, n - begin), inverse, q + begin);
  }
  return scale;
}

void ToBf16(const float* x, int64_t n, uint16_t* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof(bits));
    const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    out[i] = static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded);
  }
}

void ToBf16Parallel(const float* x, int64_t n, uint16_t* out) {
  if (n < kParallelElements) {
    ToBf16(x, n, out);
    return;
  }
  const int64_t chunk = 4096;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += chunk) {
    ToBf16(x + begin, std::min(chunk, n - begin), out + begin);
  }
}

}  // namespace mg::kernels
