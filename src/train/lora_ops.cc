#include "train/lora_ops.h"

#include "train/ops.h"

namespace mg::train {

void LoraForward(const float* x, int64_t rows, int64_t in, const float* a, const float* b,
                 int64_t rank, int64_t out, float scale, float* xa, float* y, int64_t ld_y) {
  Gemm(false, true, rows, rank, in, 1.0f, x, in, a, in, 0.0f, xa, rank);
  Gemm(false, true, rows, out, rank, scale, xa, rank, b, rank, 1.0f, y, ld_y);
}

void LoraBackward(const float* x, const float* dy, int64_t ld_dy, int64_t rows, int64_t in,
                  const float* a, const float* b, int64_t rank, int64_t out, float scale,
                  const float* xa, float* dxa, float* dx, float* da, float* db) {
  Gemm(true, false, out, rank, rows, scale, dy, ld_dy, xa, rank, 1.0f, db, rank);
  Gemm(false, false, rows, rank, out, scale, dy, ld_dy, b, rank, 0.0f, dxa, rank);
  Gemm(true, false, rank, in, rows, 1.0f, dxa, rank, x, in, 1.0f, da, in);
  if (dx != nullptr) Gemm(false, false, rows, in, rank, 1.0f, dxa, rank, a, in, 1.0f, dx, in);
}

}  // namespace mg::train
