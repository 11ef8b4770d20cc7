// AVX2+FMA kernels. This file alone is compiled with AVX2 enabled; it is
// reached only through Avx2Kernels() after a run-time CPU check.
#include "kernels/kernels.h"
#include "kernels/vec_avx2.h"
// clang-format off
#include "kernels/kernels_vector.inc"
// clang-format on

namespace mg::kernels {

const KernelTable& Avx2Kernels() {
  static const KernelTable table = MakeTable<VecAvx2>();
  return table;
}

}  // namespace mg::kernels
