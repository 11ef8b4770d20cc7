#include "serve/shapiro_wilk.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mg::serve {
namespace {

// c[0] + c[1] x + c[2] x^2 + ...
template <size_t N>
double Polynomial(const double (&c)[N], double x) {
  double value = 0;
  for (size_t k = N; k-- > 0;) value = value * x + c[k];
  return value;
}

double NormalUpperTail(double z) { return 0.5 * std::erfc(z / std::numbers::sqrt2); }

}  // namespace

double NormalQuantile(double p) {
  // Acklam's rational approximation (relative error below 1.2e-9), then one
  // Halley step against erfc, which brings it to double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - kLow) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double error = NormalUpperTail(-x) - p;  // the distribution function at x, less p
  const double u = error * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

std::vector<double> ShapiroWilkCoefficients(int n) {
  const int half = n / 2;
  if (n == 3) return {std::sqrt(0.5)};
  // m: the expected normal order statistics of the lower half (negative),
  // by Blom's approximation.
  std::vector<double> m(static_cast<size_t>(half));
  double sum_m2 = 0;
  for (int i = 0; i < half; ++i) {
    m[i] = NormalQuantile((i + 1 - 0.375) / (n + 0.25));
    sum_m2 += m[i] * m[i];
  }
  sum_m2 *= 2;
  const double root_n = 1 / std::sqrt(static_cast<double>(n));
  static constexpr double c1[] = {0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056};
  static constexpr double c2[] = {0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633};
  std::vector<double> a(static_cast<size_t>(half));
  a[0] = Polynomial(c1, root_n) - m[0] / std::sqrt(sum_m2);
  int first_scaled = 1;
  double scale;
  if (n > 5) {
    a[1] = Polynomial(c2, root_n) - m[1] / std::sqrt(sum_m2);
    scale = std::sqrt((sum_m2 - 2 * m[0] * m[0] - 2 * m[1] * m[1]) /
                      (1 - 2 * a[0] * a[0] - 2 * a[1] * a[1]));
    first_scaled = 2;
  } else {
    scale = std::sqrt((sum_m2 - 2 * m[0] * m[0]) / (1 - 2 * a[0] * a[0]));
  }
  for (int i = first_scaled; i < half; ++i) a[i] = -m[i] / scale;
  return a;
}

Result<ShapiroWilk> ShapiroWilkTest(std::vector<double> sample) {
  const int n = static_cast<int>(sample.size());
  if (n < 3 || n > 5000) {
    return InvalidArgumentError("the Shapiro-Wilk test needs 3 to 5000 values, not " +
                                std::to_string(n));
  }
  for (double value : sample) {
    if (!std::isfinite(value)) return InvalidArgumentError("a value is not a finite number");
  }
  std::sort(sample.begin(), sample.end());
  const double range = sample.back() - sample.front();
  if (!(range > 1e-19 * std::max(1.0, std::abs(sample.back())))) {
    return InvalidArgumentError("all values are equal: W is undefined");
  }
  double mean = 0;
  for (double value : sample) mean += value / range;
  mean /= n;
  double squares = 0;
  for (double value : sample) squares += (value / range - mean) * (value / range - mean);
  const std::vector<double> a = ShapiroWilkCoefficients(n);
  double weighted = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    weighted += a[i] * (sample[n - 1 - i] - sample[i]) / range;
  }
  ShapiroWilk result;
  result.w = std::min(1.0, weighted * weighted / squares);
  if (n == 3) {
    // Exact for three values.
    constexpr double kAsinMin = 1.0471975511965976;  // asin(sqrt(3/4))
    result.p = std::max(0.0, 6 / std::numbers::pi * (std::asin(std::sqrt(result.w)) - kAsinMin));
    return result;
  }
  if (result.w >= 1) return result;  // p = 1
  double y = std::log(1 - result.w);
  double mu, sigma;
  if (n <= 11) {
    const double gamma = -2.273 + 0.459 * n;
    if (y >= gamma) {
      result.p = 1e-99;
      return result;
    }
    y = -std::log(gamma - y);
    static constexpr double c3[] = {0.544, -0.39978, 0.025054, -6.714e-4};
    static constexpr double c4[] = {1.3822, -0.77857, 0.062767, -0.0020322};
    mu = Polynomial(c3, n);
    sigma = std::exp(Polynomial(c4, n));
  } else {
    const double log_n = std::log(static_cast<double>(n));
    static constexpr double c5[] = {-1.5861, -0.31082, -0.083751, 0.0038915};
    static constexpr double c6[] = {-0.4803, -0.082676, 0.0030302};
    mu = Polynomial(c5, log_n);
    sigma = std::exp(Polynomial(c6, log_n));
  }
  result.p = NormalUpperTail((y - mu) / sigma);
  return result;
}

}  // namespace mg::serve
