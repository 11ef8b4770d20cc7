// Step kernels compiled for AVX2+FMA. This file alone is compiled with AVX2
// enabled; it is reached only through StepKernels() after a run-time CPU check.
#include "train/step_kernels.h"
// clang-format off
#include "train/step_kernels.inc"
// clang-format on

namespace mg::train {

const StepKernelTable& Avx2StepKernels() { return kTable; }

}  // namespace mg::train
