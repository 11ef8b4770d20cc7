#include "train/loss.h"

#include <algorithm>
#include <cmath>

namespace mg::train {

double LossAndGradient(model::ProblemType problem, const float* logits, const float* targets,
                       int64_t batch, int64_t labels, float* dlogits) {
  double loss = 0;
  if (problem == model::ProblemType::kSingleLabel) {
    for (int64_t b = 0; b < batch; ++b) {
      const float* row = logits + b * labels;
      float* grad = dlogits + b * labels;
      const int64_t target = static_cast<int64_t>(targets[b]);
      const float max = *std::max_element(row, row + labels);
      double sum = 0;
      for (int64_t c = 0; c < labels; ++c) sum += std::exp(static_cast<double>(row[c] - max));
      const double log_sum = std::log(sum) + max;
      loss += log_sum - row[target];
      for (int64_t c = 0; c < labels; ++c) {
        const double p = std::exp(row[c] - log_sum);
        grad[c] = static_cast<float>((p - (c == target ? 1.0 : 0.0)) / batch);
      }
    }
    return loss / batch;
  }
  const int64_t n = batch * labels;
  for (int64_t i = 0; i < n; ++i) {
    const double x = logits[i], y = targets[i];
    if (problem == model::ProblemType::kMultiLabel) {
      // log(1 + e^-|x|) + max(x, 0) - x y, stable for any x.
      loss += std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0) - x * y;
      const double sigmoid = 1.0 / (1.0 + std::exp(-x));
      dlogits[i] = static_cast<float>((sigmoid - y) / n);
    } else {
      loss += (x - y) * (x - y);
      dlogits[i] = static_cast<float>(2.0 * (x - y) / n);
    }
  }
  return loss / n;
}

}  // namespace mg::train
