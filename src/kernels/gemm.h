// Linear layers: y = x W^T for row-major activations and PyTorch-layout
// weights ([out_features, in_features]), through oneDNN's GEMM.
//
// Thread-safe; oneDNN parallelises internally over the intra-op threads
// (SetThreads). No allocation by the caller's side.
#pragma once

#include <cstdint>

namespace mg::kernels {

// y[rows, out] = x[rows, in] * weight[out, in]^T (no bias: kernels fuse it).
void Linear(const float* x, int64_t rows, int64_t in, const float* weight, int64_t out, float* y);

// C[M, N] = alpha * A[M, K] * B^T (B stored [N, K]), with leading dimensions.
void GemmNT(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Intra-op threads for GEMM and the kernels' parallel loops (0 or less = all
// cores). Requests beyond MaxThreads() get MaxThreads(): more threads than
// that only contend, and OpenMP starts a team with per-thread data on the
// caller's stack, so an absurd count would overflow it.
void SetThreads(int threads);
int Threads();
int MaxThreads();  // max(256, processors)

}  // namespace mg::kernels
