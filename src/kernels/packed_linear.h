// PackedLinear: a linear layer y = act(x W^T + b) whose weights are packed
// once, at load time, into the blocked layout oneDNN's matmul kernels want,
// with the bias and the activation fused into the same pass.
//
// Precision says how the weights are stored and multiplied; the input and
// output stay F32 whatever it is:
//   kF32   F32 weights, F32 GEMM.
//   kBf16  weights stored as bfloat16; each call rounds the input to
//          bfloat16; products accumulate in F32.
//   kInt8  weights quantised symmetrically per output channel (s8, one F32
//          scale per row of W); each call quantises the input symmetrically
//          with one scale for the whole call (s8); products accumulate in
//          int32 and are scaled back to F32 before the bias and activation.
// When oneDNN has no kernel for the requested precision on this CPU (for
// kInt8: no VNNI, where oneDNN's 16-bit pair sums saturate) the layer falls
// back to kF32; precision() says what it runs.
//
// Construction copies the weights (the caller may free its own); a kInt8 or
// kBf16 layer keeps no F32 copy. Run() is thread-safe; it creates and caches
// one oneDNN primitive per distinct row count and keeps per-thread scratch
// for the converted input, so steady-state calls do not allocate.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/status.h"

namespace mg::kernels {

enum class Activation { kNone, kGeluErf };

enum class Precision { kF32, kBf16, kInt8 };

// "f32", "bf16" or "int8".
std::string_view PrecisionName(Precision precision);
// The inverse of PrecisionName; anything else is an InvalidArgument error.
Result<Precision> ParsePrecision(std::string_view name);

class PackedLinear {
 public:
  // `weight` is [out, in] row-major (PyTorch's nn.Linear layout); `bias` is
  // [out] or null.
  PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out,
               Activation activation = Activation::kNone, Precision precision = Precision::kF32);
  ~PackedLinear();
  PackedLinear(PackedLinear&&) noexcept;
  PackedLinear& operator=(PackedLinear&&) noexcept;
  PackedLinear(const PackedLinear&) = delete;
  PackedLinear& operator=(const PackedLinear&) = delete;

  // y[rows, out] = act(x[rows, in] W^T + b).
  void Run(const float* x, int64_t rows, float* y) const;

  int64_t in() const;
  int64_t out() const;
  // What the layer runs: the requested precision, or kF32 after a fallback.
  Precision precision() const;
  // Bytes of packed weights, bias and weight scales.
  size_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg::kernels
