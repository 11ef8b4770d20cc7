// Step kernels for any x86-64 (the reference the vector tables must match).
#include "train/step_kernels.h"

#include <cmath>

#include "kernels/isa.h"

namespace mg::train {
namespace {

void GeluWithGradRow(float* x, const float* bias, int64_t cols, float* y) {
  for (int64_t c = 0; c < cols; ++c) {
    const float z = x[c] + bias[c];
    const float cdf = 0.5f * (1.0f + std::erf(z * 0.70710678118654752f));
    y[c] = z * cdf;
    x[c] = cdf + z * 0.3989422804014327f * std::exp(-0.5f * z * z);
  }
}

}  // namespace
}  // namespace mg::train
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
