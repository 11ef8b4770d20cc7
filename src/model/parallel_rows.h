// ParallelRows: splits a row range over the intra-op OpenMP threads, for the
// encoders' row-wise kernels (normalisation, residual additions).
#pragma once

#include <omp.h>

#include <cstdint>

namespace mg::model {

// Applies `body(row_begin, row_count)` to blocks of rows on the intra-op
// threads; the blocks are disjoint, so `body` may write its own rows.
template <typename Body>
void ParallelRows(int64_t rows, Body body) {
  const int threads = omp_get_max_threads();
  if (threads <= 1 || rows < 8) {
    body(int64_t{0}, rows);
    return;
  }
  const int64_t block = (rows + threads - 1) / threads;
#pragma omp parallel for schedule(static)
  for (int64_t start = 0; start < rows; start += block) {
    body(start, start + block < rows ? block : rows - start);
  }
}

}  // namespace mg::model
