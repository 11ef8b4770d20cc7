#include "serve/shapiro_wilk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mg::serve {
namespace {

// Shapiro and Wilk's own example (Biometrika 1965): the weights of eleven
// men. R's shapiro.test, the same algorithm, gives W = 0.78881,
// p = 0.006704; the exact W of the paper is 0.79.
TEST(ShapiroWilkTest, MatchesThePublishedExample) {
  auto result = ShapiroWilkTest({148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236});
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_NEAR(result->w, 0.78881, 5e-5);
  EXPECT_NEAR(result->p, 0.006704, 5e-6);
}

// The exact coefficients tabulated by Shapiro and Wilk (1965); Royston's
// approximation is within 0.001 of them.
TEST(ShapiroWilkTest, CoefficientsAreCloseToTheExactTable) {
  const std::vector<std::pair<int, std::vector<double>>> table = {
      {5, {0.6646, 0.2413}},
      {10, {0.5739, 0.3291, 0.2141, 0.1224, 0.0399}},
      {20, {0.4734, 0.3211, 0.2565, 0.2085, 0.1686, 0.1334, 0.1013, 0.0711, 0.0422, 0.0140}},
  };
  for (const auto& [n, exact] : table) {
    const std::vector<double> a = ShapiroWilkCoefficients(n);
    ASSERT_EQ(a.size(), exact.size());
    double squares = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a[i], exact[i], 0.0012) << "n=" << n << " i=" << i;
      squares += 2 * a[i] * a[i];
    }
    EXPECT_NEAR(squares, 1.0, 1e-9) << "n=" << n;
  }
}

// For three values W = (x3 - x1)^2 / (2 SS), and p is exact.
TEST(ShapiroWilkTest, ThreeValues) {
  auto result = ShapiroWilkTest({10, 1, 2});
  ASSERT_TRUE(result.ok());
  const double mean = 13.0 / 3;
  const double ss = (1 - mean) * (1 - mean) + (2 - mean) * (2 - mean) + (10 - mean) * (10 - mean);
  EXPECT_NEAR(result->w, 81 / (2 * ss), 1e-12);
  EXPECT_NEAR(result->p, 6 / M_PI * (std::asin(std::sqrt(81 / (2 * ss))) - M_PI / 3), 1e-12);
  auto even = ShapiroWilkTest({1, 2, 3});
  ASSERT_TRUE(even.ok());
  EXPECT_NEAR(even->w, 1, 1e-12);
  EXPECT_NEAR(even->p, 1, 1e-12);
}

// Under normality p is uniform: about 5 % of normal samples fall below 0.05.
// Skewed samples are refused nearly always.
TEST(ShapiroWilkTest, PValueIsCalibrated) {
  std::mt19937_64 random(7);
  std::normal_distribution<double> normal(3, 2);
  std::exponential_distribution<double> exponential(1);
  for (int n : {20, 50, 400}) {
    int below = 0;
    constexpr int kSamples = 2000;
    for (int sample = 0; sample < kSamples; ++sample) {
      std::vector<double> values(static_cast<size_t>(n));
      for (double& value : values) value = normal(random);
      auto result = ShapiroWilkTest(values);
      ASSERT_TRUE(result.ok());
      below += result->p < 0.05;
    }
    EXPECT_NEAR(static_cast<double>(below) / kSamples, 0.05, 0.015) << "n=" << n;
    int refused = 0;
    for (int sample = 0; sample < 200; ++sample) {
      std::vector<double> values(static_cast<size_t>(n));
      for (double& value : values) value = exponential(random);
      refused += ShapiroWilkTest(values)->p < 0.05;
    }
    EXPECT_GT(refused, n >= 50 ? 195 : 150) << "n=" << n;
  }
}

TEST(ShapiroWilkTest, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0, 1e-15);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-9);
  for (double p = 0.001; p < 1; p += 0.0137) {
    EXPECT_NEAR(0.5 * std::erfc(-NormalQuantile(p) / std::sqrt(2.0)), p, 1e-14);
  }
}

TEST(ShapiroWilkTest, RefusesWhatItCannotTest) {
  EXPECT_FALSE(ShapiroWilkTest({1, 2}).ok());
  EXPECT_FALSE(ShapiroWilkTest({4, 4, 4, 4}).ok());
  EXPECT_FALSE(ShapiroWilkTest({1, 2, std::nan("")}).ok());
  EXPECT_FALSE(ShapiroWilkTest(std::vector<double>(5001, 1)).ok());
}

}  // namespace
}  // namespace mg::serve
