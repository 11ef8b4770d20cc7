#include "release/watermark_stats.h"

#include <algorithm>
#include <cmath>

namespace mg::release {

double KolmogorovSurvival(double x) {
  if (x <= 0) return 1.0;
  if (x < 1.0) {
    // P(K <= x) = sqrt(2 pi) / x * sum_k exp(-(2k - 1)^2 pi^2 / (8 x^2)), fast for small x.
    double cdf = 0;
    for (int k = 1; k <= 20; ++k) {
      const double odd = 2.0 * k - 1.0;
      cdf += std::exp(-odd * odd * M_PI * M_PI / (8 * x * x));
    }
    return std::clamp(1.0 - std::sqrt(2 * M_PI) / x * cdf, 0.0, 1.0);
  }
  // P(K > x) = 2 sum_k (-1)^(k-1) exp(-2 k^2 x^2), fast for x >= 1.
  double tail = 0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * x * x);
    tail += (k % 2 == 1 ? term : -term);
    if (term < 1e-300) break;
  }
  return std::clamp(2 * tail, 0.0, 1.0);
}

KsResult KsTwoSample(std::vector<double> a, std::vector<double> b) {
  KsResult result;
  if (a.empty() || b.empty()) return result;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double n = static_cast<double>(a.size());
  const double m = static_cast<double>(b.size());
  size_t i = 0;
  size_t j = 0;
  double d = 0;
  // Walk both sorted samples; after each distinct value both CDFs are exact.
  while (i < a.size() && j < b.size()) {
    const double value = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == value) ++i;
    while (j < b.size() && b[j] == value) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / n - static_cast<double>(j) / m));
  }
  result.statistic = d;
  result.p_value = KolmogorovSurvival(std::sqrt(n * m / (n + m)) * d);
  return result;
}

double SphereCapProbability(double c, int64_t dims) {
  if (c <= -1) return 1.0;
  if (c >= 1 || dims < 3) return c >= 1 ? 0.0 : 1.0;
  const double power = (static_cast<double>(dims) - 3) / 2;
  // 1 / B(1/2, (dims - 1) / 2), the density's normalising constant.
  const double log_norm = std::lgamma(static_cast<double>(dims) / 2) - std::lgamma(0.5) -
                          std::lgamma((static_cast<double>(dims) - 1) / 2);
  const auto density = [&](double x) {
    const double inside = 1 - x * x;
    if (inside <= 0) return power == 0 ? std::exp(log_norm) : 0.0;
    return std::exp(log_norm + power * std::log(inside));
  };
  // Simpson's rule over [c, 1]; the tail itself is integrated, so tiny
  // p-values keep their relative precision.
  constexpr int kSteps = 20000;
  const double step = (1 - c) / kSteps;
  double sum = density(c) + density(1.0);
  for (int i = 1; i < kSteps; ++i) sum += (i % 2 == 1 ? 4 : 2) * density(c + i * step);
  return std::clamp(sum * step / 3, 0.0, 1.0);
}

double BinomialUpperTail(int64_t k, int64_t n, double p) {
  if (k <= 0) return 1.0;
  if (k > n) return 0.0;
  if (p <= 0) return 0.0;
  if (p >= 1) return 1.0;
  // Sum the terms from k up in log space, relative to the first, which is
  // the largest when k >= n p (the case that matters); exact otherwise too.
  const auto log_term = [n, p](int64_t x) {
    return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(x) + 1) -
           std::lgamma(static_cast<double>(n - x) + 1) + static_cast<double>(x) * std::log(p) +
           static_cast<double>(n - x) * std::log1p(-p);
  };
  double max_log = -INFINITY;
  for (int64_t x = k; x <= n; ++x) max_log = std::max(max_log, log_term(x));
  double sum = 0;
  for (int64_t x = k; x <= n; ++x) sum += std::exp(log_term(x) - max_log);
  return std::min(1.0, std::exp(max_log) * sum);
}

}  // namespace mg::release
