// Step kernels compiled for AVX2+FMA. This file alone is compiled with AVX2
// enabled; it is reached only through StepKernels() after a run-time CPU check.
#include "kernels/kernels.h"
#include "kernels/vec_avx2.h"
#include "train/step_kernels.h"
// clang-format off
#include "kernels/kernels_vector.inc"
// clang-format on

namespace mg::train {
namespace {

// As the encoder kernels' GeluV and GeluBackwardV compute them, sharing erf.
void GeluWithGradRow(float* x, const float* bias, int64_t cols, float* y) {
  using V = kernels::VecAvx2;
  struct Pair {
    V::Reg gelu, grad;
  };
  auto one = [&](V::Reg xv) {
    const auto ope = kernels::OnePlusErf<V>(xv);
    const auto half = V::Set1(0.5f);
    const auto pdf = V::Mul(V::Set1(0.3989422804014327f),
                            kernels::Exp<V>(V::Mul(V::Mul(xv, xv), V::Set1(-0.5f))));
    return Pair{V::Mul(V::Mul(half, xv), ope), V::Fma(xv, pdf, V::Mul(half, ope))};
  };
  int64_t c = 0;
  for (; c + V::kWidth <= cols; c += V::kWidth) {
    const Pair r = one(V::Add(V::Load(x + c), V::Load(bias + c)));
    V::Store(y + c, r.gelu);
    V::Store(x + c, r.grad);
  }
  if (c < cols) {
    const int64_t m = cols - c;
    const Pair r = one(V::Add(V::LoadPartial(x + c, m), V::LoadPartial(bias + c, m)));
    V::StorePartial(y + c, r.gelu, m);
    V::StorePartial(x + c, r.grad, m);
  }
}

}  // namespace
}  // namespace mg::train
// clang-format off
#include "train/step_kernels.inc"
// clang-format on

namespace mg::train {

const StepKernelTable& Avx2StepKernels() { return kTable; }

}  // namespace mg::train
