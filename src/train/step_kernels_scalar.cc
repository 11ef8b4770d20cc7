// Step kernels for any x86-64 (the reference the vector tables must match).
#include "train/step_kernels.h"

#include "kernels/isa.h"
// clang-format off
#include "train/step_kernels.inc"
// clang-format on

namespace mg::train {

const StepKernelTable& ScalarStepKernels() { return kTable; }

const StepKernelTable& StepKernels() {
  static const StepKernelTable& table = [&]() -> const StepKernelTable& {
    switch (kernels::ActiveIsa()) {
      case kernels::Isa::kAvx512:
        return Avx512StepKernels();
      case kernels::Isa::kAvx2:
        return Avx2StepKernels();
      case kernels::Isa::kScalar:
        break;
    }
    return ScalarStepKernels();
  }();
  return table;
}

}  // namespace mg::train
