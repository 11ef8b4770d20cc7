// AVX-512 vector traits for kernels_vector.inc. Include only from a
// translation unit compiled for AVX-512 (kernels_avx512.cc).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace mg::kernels {
namespace {

struct VecAvx512 {
  using Reg = __m512;
  static constexpr int64_t kWidth = 16;

  static Reg Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg LoadPartial(const float* p, int64_t n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static void StorePartial(float* p, Reg v, int64_t n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
  }
  // Lanes past n of a partial load are 0; for max reductions use this.
  static Reg LoadPartialOr(const float* p, int64_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>((1u << n) - 1), p);
  }
  static Reg Set1(float x) { return _mm512_set1_ps(x); }
  static Reg Zero() { return _mm512_setzero_ps(); }
  static Reg Add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg Sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg Mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg Div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  static Reg Fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg Max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg Min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static Reg Abs(Reg a) { return _mm512_abs_ps(a); }
  static Reg Round(Reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // a * 2^n for integral-valued n.
  static Reg Scale2(Reg a, Reg n) { return _mm512_scalef_ps(a, n); }
  // Where x < 0 take a, else b.
  static Reg SelectNegative(Reg x, Reg a, Reg b) {
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(neg, b, a);
  }
  static Reg CopySign(Reg magnitude, Reg sign) {
    const __m512i mask = _mm512_set1_epi32(0x80000000);
    return _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_andnot_si512(mask, _mm512_castps_si512(magnitude)),
                        _mm512_and_si512(mask, _mm512_castps_si512(sign))));
  }
  static float ReduceAdd(Reg v) { return _mm512_reduce_add_ps(v); }
  static float ReduceMax(Reg v) { return _mm512_reduce_max_ps(v); }
};

}  // namespace
}  // namespace mg::kernels
