// Matrix products for training in a chosen precision: F32 through oneDNN's
// sgemm, or bf16 operands with F32 accumulation and F32 output through
// oneDNN's matmul primitive (AVX512_BF16 instructions).
//
// In bf16, F32 operands are rounded to bf16 (nearest even) into per-thread
// scratch on every call; an operand converted ahead of time (a weight
// matrix, once per optimizer step) can be passed instead and is then read as
// is. Thread-safe: primitives and scratch are per thread; oneDNN
// parallelises each product over the intra-op threads (gemm.h SetThreads).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "kernels/quantize.h"  // ToBf16, ToBf16Parallel

namespace mg::kernels {

enum class GemmDtype { kF32, kBf16 };

// "f32" / "bf16", and back (any other name: InvalidArgument).
const char* GemmDtypeName(GemmDtype dtype);
Result<GemmDtype> ParseGemmDtype(const std::string& name);

// Ok when this CPU runs bf16 products natively (AVX512_BF16, as oneDNN sees
// it: ONEDNN_MAX_CPU_ISA lowers it). Otherwise a message saying so: oneDNN
// would emulate bf16 on plain AVX-512 (slower than F32) and has no bf16
// product below it, so bf16 training is refused rather than run slowly.
Status Bf16GemmSupported();

inline float Bf16ToFloat(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  __builtin_memcpy(&out, &bits, sizeof(out));
  return out;
}

// C[m,n] = alpha * op(A) op(B) + beta * C, row-major, op(X) = X^T when the
// flag is set, in `dtype`. In bf16, a_bf16 / b_bf16 (optional) are A / B
// already rounded to bf16 with the same leading dimensions; given, the F32
// operand is not read. beta == 0 ignores what C held.
void Gemm(GemmDtype dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc, const uint16_t* a_bf16 = nullptr, const uint16_t* b_bf16 = nullptr);

}  // namespace mg::kernels
