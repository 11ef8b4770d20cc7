#include "train/adamw.h"

#include "train/step_kernels.h"

#include <algorithm>
#include <cmath>

namespace mg::train {

AdamW::AdamW(const ParamLayout& layout, AdamWOptions options)
    : tensors_(layout.tensors), options_(options), m_(layout.total, 0.0f), v_(layout.total, 0.0f) {
  constexpr int64_t kChunk = 1 << 15;
  for (const ParamTensor& t : tensors_) {
    if (!t.trainable) continue;  // frozen: never moved, not even by weight decay
    for (int64_t begin = 0; begin < static_cast<int64_t>(t.size); begin += kChunk) {
      chunks_.push_back(Chunk{static_cast<int64_t>(t.offset) + begin,
                              std::min<int64_t>(kChunk, static_cast<int64_t>(t.size) - begin),
                              t.decay});
    }
  }
}

void AdamW::Step(float lr, const float* grads, float* params, float grad_scale) {
  ++step_;
  const float b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(step_));
  const double correction2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(step_));
  const float step_size = static_cast<float>(lr / correction1);
  const float sqrt_correction2 = static_cast<float>(std::sqrt(correction2));
  const float eps = options_.eps, weight_decay = options_.weight_decay;
  const StepKernelTable& kernels = StepKernels();
  // Fixed chunks of whole tensors, one parallel region for all of them.
  const int64_t chunks = static_cast<int64_t>(chunks_.size());
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const Chunk& chunk = chunks_[c];
    const AdamWConstants constants{b1,
                                   b2,
                                   eps,
                                   step_size,
                                   sqrt_correction2,
                                   chunk.decay ? 1.0f - lr * weight_decay : 1.0f,
                                   grad_scale};
    kernels.adamw(params + chunk.begin, grads + chunk.begin, m_.data() + chunk.begin,
                  v_.data() + chunk.begin, chunk.size, constants);
  }
}

float LinearScheduleLr(float peak, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return peak * static_cast<float>(step) / static_cast<float>(warmup);
  if (total <= warmup) return 0.0f;
  const double left = static_cast<double>(total - step) / static_cast<double>(total - warmup);
  return peak * static_cast<float>(left > 0 ? left : 0.0);
}

double GradNorm(const float* grads, size_t n) {
  // Fixed-size chunks summed in order: the same norm for any thread count.
  constexpr size_t kChunk = 1 << 16;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
  std::vector<double> partial(chunks, 0.0);
  const StepKernelTable& kernels = StepKernels();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = c * kChunk;
    partial[c] = kernels.sum_squares(grads + begin,
                                     static_cast<int64_t>(std::min(n, begin + kChunk) - begin));
  }
  double total = 0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

float ClipCoefficient(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0f;
  const double coefficient = max_norm / (norm + 1e-6);
  return coefficient < 1.0 ? static_cast<float>(coefficient) : 1.0f;
}

double ClipGradNorm(float* grads, size_t n, double max_norm) {
  const double norm = GradNorm(grads, n);
  const float scale = ClipCoefficient(norm, max_norm);
  if (scale != 1.0f) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) grads[i] *= scale;
  }
  return norm;
}

}  // namespace mg::train
