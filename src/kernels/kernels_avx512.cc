// AVX-512 kernels. This file alone is compiled with AVX-512 enabled; it is
// reached only through Avx512Kernels() after a run-time CPU check.
#include "kernels/kernels.h"
#include "kernels/vec_avx512.h"
// clang-format off
#include "kernels/kernels_vector.inc"
// clang-format on

namespace mg::kernels {

const KernelTable& Avx512Kernels() {
  static const KernelTable table = MakeTable<VecAvx512>();
  return table;
}

}  // namespace mg::kernels
