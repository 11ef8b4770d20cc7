// LoRA ops: the low-rank update of a frozen linear layer, forward and
// backward, for training an adapter (Hu et al. 2021, as PEFT's LoRA Linear):
//
//   y += scale * (x A^T) B^T      x [rows, in], A [rank, in], B [out, rank]
//
// The frozen product x W^T + b is computed apart (LinearForward); these ops
// add the adapter's term into y in place, which may be a column block of a
// wider matrix (leading dimension ld_y), e.g. the query or value columns of
// the fused [tokens, 3*hidden] QKV projection. Matrix products run through
// Gemm (ops.h); results depend only on the inputs and the thread count.
// Thread-safe on disjoint outputs.
#pragma once

#include <cstdint>

namespace mg::train {

// xa[rows, rank] = x A^T (kept for the backward pass); y[:, 0:out] (leading
// dimension ld_y) += scale * xa B^T.
void LoraForward(const float* x, int64_t rows, int64_t in, const float* a, const float* b,
                 int64_t rank, int64_t out, float scale, float* xa, float* y, int64_t ld_y);

// From dy [rows, out] (leading dimension ld_dy) and the xa of the forward
// pass: dB += scale * dy^T xa, dA += dxa^T x with dxa = scale * dy B
// ([rows, rank] scratch the caller provides), and dx += dxa A unless dx is
// null.
void LoraBackward(const float* x, const float* dy, int64_t ld_dy, int64_t rows, int64_t in,
                  const float* a, const float* b, int64_t rank, int64_t out, float scale,
                  const float* xa, float* dxa, float* dx, float* da, float* db);

}  // namespace mg::train
