// Vector helpers of the recommendation index: dot product (AVX2 when the CPU
// has it, chosen once at run time), L2 normalisation, and a fast 64-bit
// checksum for the index files.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mg::recommend {

using DotFn = float (*)(const float* a, const float* b, size_t dim);

// The dot product for this CPU (AVX2+FMA or portable C++).
DotFn BestDot();

// Portable reference implementation; the AVX2 variant is tested against it.
float DotScalar(const float* a, const float* b, size_t dim);

inline float Dot(const float* a, const float* b, size_t dim) { return BestDot()(a, b, dim); }

// Scales `v` to unit length. Returns false (leaving `v` unchanged) when a
// component is not finite or the norm is zero.
bool NormalizeInPlace(float* v, size_t dim);

// 64-bit checksum of `bytes` (FNV-1a over 8-byte words). Detects accidental
// damage (truncation, bit flips), not deliberate tampering.
uint64_t Checksum64(std::string_view bytes);

}  // namespace mg::recommend
