// Step kernels compiled for AVX-512 (F, BW, DQ, VL). This file alone is
// compiled with AVX-512 enabled; it is reached only through StepKernels()
// after a run-time CPU check. Dropout hashes eight groups of four elements
// per step: the eight 64-bit hashes, read as 32 16-bit lanes, are exactly the
// uniforms of 32 consecutive elements.
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/vec_avx512.h"
#include "train/step_kernels.h"
// clang-format off
#include "kernels/kernels_vector.inc"
// clang-format on

namespace mg::train {
namespace {

// As the encoder kernels' GeluV and GeluBackwardV compute them, sharing erf.
void GeluWithGradRow(float* x, const float* bias, int64_t cols, float* y) {
  using V = kernels::VecAvx512;
  struct Pair {
    V::Reg gelu, grad;
  };
  auto one = [&](V::Reg xv) {
    const auto ope = kernels::OnePlusErf<V>(xv);
    const auto half = V::Set1(0.5f);
    const auto pdf = V::Mul(V::Set1(0.3989422804014327f),
                            kernels::Exp<V>(V::Mul(V::Mul(xv, xv), V::Set1(-0.5f))));
    return Pair{V::Mul(V::Mul(half, xv), ope), V::Fma(xv, pdf, V::Mul(half, ope))};
  };
  int64_t c = 0;
  for (; c + V::kWidth <= cols; c += V::kWidth) {
    const Pair r = one(V::Add(V::Load(x + c), V::Load(bias + c)));
    V::Store(y + c, r.gelu);
    V::Store(x + c, r.grad);
  }
  if (c < cols) {
    const int64_t m = cols - c;
    const Pair r = one(V::Add(V::LoadPartial(x + c, m), V::LoadPartial(bias + c, m)));
    V::StorePartial(y + c, r.gelu, m);
    V::StorePartial(x + c, r.grad, m);
  }
}

}  // namespace
}  // namespace mg::train

namespace mg::train {
namespace {

inline __m512i Xorshift(__m512i x, int shift) {
  return _mm512_xor_si512(x, _mm512_srli_epi64(x, static_cast<unsigned>(shift)));
}

void DropoutBlock(const float* src, const float* residual, float* dst, uint64_t key, uint64_t index,
                  uint32_t threshold, float scale) {
  const uint64_t group = index >> 2;
  __m512i g = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(group)),
                               _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
  g = _mm512_mullo_epi64(g, _mm512_set1_epi64(static_cast<long long>(0xd1b54a32d192ed03ULL)));
  __m512i x = _mm512_xor_si512(_mm512_set1_epi64(static_cast<long long>(key)), g);
  x = _mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(0x9e3779b97f4a7c15ULL)));
  x = _mm512_mullo_epi64(Xorshift(x, 30),
                         _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL)));
  x = _mm512_mullo_epi64(Xorshift(x, 27),
                         _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL)));
  x = Xorshift(x, 31);
  const __mmask32 keep =
      _mm512_cmpge_epu16_mask(x, _mm512_set1_epi16(static_cast<short>(threshold)));
  const __m512 s = _mm512_set1_ps(scale);
  for (int half = 0; half < 2; ++half) {
    const __mmask16 k = static_cast<__mmask16>(keep >> (16 * half));
    __m512 y = _mm512_maskz_mul_ps(k, _mm512_loadu_ps(src + 16 * half), s);
    if (residual != nullptr) y = _mm512_add_ps(y, _mm512_loadu_ps(residual + 16 * half));
    _mm512_storeu_ps(dst + 16 * half, y);
  }
}

}  // namespace
}  // namespace mg::train

#define MG_STEP_DROPOUT_BLOCK DropoutBlock
// clang-format off
#include "train/step_kernels.inc"
// clang-format on

namespace mg::train {

const StepKernelTable& Avx512StepKernels() { return kTable; }

}  // namespace mg::train
