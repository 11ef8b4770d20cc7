#include "recommend/vector_math.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace mg::recommend {

float DotScalar(const float* a, const float* b, size_t dim) {
  float sum[4] = {0, 0, 0, 0};
  size_t c = 0;
  for (; c + 4 <= dim; c += 4) {
    for (size_t lane = 0; lane < 4; ++lane) sum[lane] += a[c + lane] * b[c + lane];
  }
  for (; c < dim; ++c) sum[0] += a[c] * b[c];
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

namespace {

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t c = 0;
  for (; c + 16 <= dim; c += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + c), _mm256_loadu_ps(b + c), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + c + 8), _mm256_loadu_ps(b + c + 8), acc1);
  }
  for (; c + 8 <= dim; c += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + c), _mm256_loadu_ps(b + c), acc0);
  }
  acc0 = _mm256_add_ps(acc0, acc1);
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  const __m128 quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
  float sum = _mm_cvtss_f32(_mm_add_ss(quad, _mm_shuffle_ps(quad, quad, 1)));
  for (; c < dim; ++c) sum += a[c] * b[c];
  return sum;
}

DotFn ChooseDot() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DotAvx2;
  return DotScalar;
}

}  // namespace

DotFn BestDot() {
  static const DotFn kDot = ChooseDot();
  return kDot;
}

bool NormalizeInPlace(float* v, size_t dim) {
  double norm2 = 0;
  for (size_t c = 0; c < dim; ++c) {
    if (!std::isfinite(v[c])) return false;
    norm2 += static_cast<double>(v[c]) * v[c];
  }
  if (!(norm2 > 0) || !std::isfinite(norm2)) return false;
  const float scale = static_cast<float>(1.0 / std::sqrt(norm2));
  for (size_t c = 0; c < dim; ++c) v[c] *= scale;
  return true;
}

uint64_t Checksum64(std::string_view bytes) {
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t hash = 14695981039346656037ULL ^ bytes.size();
  size_t pos = 0;
  for (; pos + 8 <= bytes.size(); pos += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + pos, 8);
    hash = (hash ^ word) * kPrime;
    hash ^= hash >> 29;
  }
  for (; pos < bytes.size(); ++pos) {
    hash = (hash ^ static_cast<uint8_t>(bytes[pos])) * kPrime;
  }
  return hash;
}

}  // namespace mg::recommend
