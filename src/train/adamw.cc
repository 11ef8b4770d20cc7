#include "train/adamw.h"

#include <algorithm>
#include <cmath>

namespace mg::train {

AdamW::AdamW(const ParamLayout& layout, AdamWOptions options)
    : tensors_(layout.tensors), options_(options), m_(layout.total, 0.0f), v_(layout.total, 0.0f) {}

void AdamW::Step(float lr, const float* grads, float* params, float grad_scale) {
  ++step_;
  const float b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(step_));
  const double correction2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(step_));
  const float step_size = static_cast<float>(lr / correction1);
  const float sqrt_correction2 = static_cast<float>(std::sqrt(correction2));
  for (const ParamTensor& t : tensors_) {
    const float decay = t.decay ? 1.0f - lr * options_.weight_decay : 1.0f;
    float* p = params + t.offset;
    const float* g = grads + t.offset;
    float* m = m_.data() + t.offset;
    float* v = v_.data() + t.offset;
    const int64_t n = static_cast<int64_t>(t.size);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float grad = grad_scale == 1.0f ? g[i] : g[i] * grad_scale;
      p[i] *= decay;
      m[i] = b1 * m[i] + (1.0f - b1) * grad;
      v[i] = b2 * v[i] + (1.0f - b2) * grad * grad;
      const float denom = std::sqrt(v[i]) / sqrt_correction2 + options_.eps;
      p[i] -= step_size * m[i] / denom;
    }
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
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    double sum = 0;
    const size_t end = std::min(n, (c + 1) * kChunk);
    for (size_t i = c * kChunk; i < end; ++i) sum += static_cast<double>(grads[i]) * grads[i];
    partial[c] = sum;
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
