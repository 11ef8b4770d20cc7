#include "kernels/gemm.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>

#include "base/status.h"

namespace mg::kernels {

void GemmNT(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  // oneDNN's GEMM is column-major-agnostic row-major ("C = A op(B)").
  dnnl_status_t status = dnnl_sgemm('N', 'T', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  MG_CHECK_MSG(status == dnnl_success, "dnnl_sgemm failed");
}

void Linear(const float* x, int64_t rows, int64_t in, const float* weight, int64_t out, float* y) {
  GemmNT(rows, out, in, 1.0f, x, in, weight, in, 0.0f, y, out);
}

void SetThreads(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(std::min(threads, MaxThreads()));
}

int MaxThreads() { return std::max(256, omp_get_num_procs()); }

int Threads() { return omp_get_max_threads(); }

}  // namespace mg::kernels
