#include "kernels/quantize.h"

#include "kernels/kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mg::kernels {
namespace {

// Inputs smaller than this are converted on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 16;

// The CPU's vector kernels (kernels.h): AVX-512 or AVX2 where present.
float MaxAbs(const float* x, int64_t n) { return Kernels().max_abs(x, n); }

void QuantizeWithScale(const float* x, int64_t n, float inverse, int8_t* q) {
  Kernels().quantize_s8(x, n, inverse, q);
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
  // One parallel region: each thread takes the maximum of its own share, the
  // shares' maxima meet at a barrier, and each thread quantises the same
  // share it read (still in its cache).
  float max = 0.0f;
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t share = (n + threads - 1) / threads;
    const int64_t begin = std::min(n, omp_get_thread_num() * share);
    const int64_t count = std::min(share, n - begin);
    const float own = count > 0 ? MaxAbs(x + begin, count) : 0.0f;
#pragma omp critical(mg_quantize_max)
    max = std::max(max, own);
#pragma omp barrier
    if (count > 0) QuantizeWithScale(x + begin, count, 1.0f / ScaleFor(max), q + begin);
  }
  return ScaleFor(max);
}

void ToBf16(const float* x, int64_t n, uint16_t* out) { Kernels().to_bf16(x, n, out); }

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
