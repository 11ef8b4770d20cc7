// Conversions behind the low-precision linear layers (packed_linear.h):
// symmetric int8 quantisation of weights (one scale per output channel) and
// of activations (one scale per call), and float -> bfloat16 rounding.
//
// Pure functions on caller-owned buffers; they never allocate. The
// activation conversions split large inputs over the intra-op threads.
#pragma once

#include <cstdint>

namespace mg::kernels {

// Largest magnitude of a symmetric int8 code.
inline constexpr float kInt8Max = 127.0f;

// Quantises each row of `w` [rows, cols] on its own: scales[r] =
// max|w[r, :]| / 127 (1 for an all-zero row) and q[r, c] = round(w[r, c] /
// scales[r]), so |w - q * scale| <= scale / 2 element-wise. A scale so
// computed survives the trip through float arithmetic, (127 * s) / 127 == s,
// so the dequantised matrix w'[r, c] = q[r, c] * scales[r] (float products)
// quantises to the same codes and scales: weights stored quantised (a
// release in int8, model/stored_precision.h) load bit for bit as the model
// they were quantised from (tested over twelve binades).
void QuantizeRowsS8(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scales);

// Quantises x[n] with one scale, max|x| / 127 (1 when x is all zero), into
// q[n]; returns the scale. Rounds half to even.
float QuantizeS8(const float* x, int64_t n, int8_t* q);

// bfloat16 bits of x[n], rounded to nearest even (NaN stays NaN); on the
// calling thread, and the same split over the intra-op threads (large n).
void ToBf16(const float* x, int64_t n, uint16_t* out);
void ToBf16Parallel(const float* x, int64_t n, uint16_t* out);

}  // namespace mg::kernels
