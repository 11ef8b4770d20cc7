#include "kernels/gemm_bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace mg::kernels {
namespace {

TEST(ToBf16, RoundsToNearestEven) {
  const float inputs[] = {1.0f,
                          -2.5f,
                          0.0f,
                          1.00390625f /* 1 + 2^-8: tie, to even */,
                          1.01171875f /* 1 + 3*2^-8: tie, to even (up) */,
                          1.0f + 1.0f / 128,
                          3.0e38f,
                          std::numeric_limits<float>::infinity()};
  const uint16_t expected[] = {0x3f80, 0xc020, 0x0000, 0x3f80, 0x3f82, 0x3f81, 0x7f62, 0x7f80};
  uint16_t out[8];
  ToBf16(inputs, 8, out);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], expected[i]) << inputs[i];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint16_t nan_out;
  ToBf16(&nan, 1, &nan_out);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(nan_out)));
  EXPECT_EQ(Bf16ToFloat(0x3f80), 1.0f);
}

TEST(GemmDtype, NamesRoundTrip) {
  EXPECT_EQ(*ParseGemmDtype("bf16"), GemmDtype::kBf16);
  EXPECT_EQ(*ParseGemmDtype("f32"), GemmDtype::kF32);
  EXPECT_FALSE(ParseGemmDtype("fp16").ok());
  EXPECT_STREQ(GemmDtypeName(GemmDtype::kBf16), "bf16");
}

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
};

// Each bf16 operand is within 2^-9 (relative) of its F32 value, so each
// product within about 2^-8: |C_bf16 - C_f32| <= 2^-8 * alpha * sum |a||b|,
// plus F32 rounding of the sums. A second check against a double product of
// the rounded operands shows that accumulation is F32, not bf16.
TEST(GemmBf16, MatchesF32WithinBf16Rounding) {
  if (!Bf16GemmSupported().ok()) GTEST_SKIP() << Bf16GemmSupported().message();
  const Case cases[] = {
      {false, true, 37, 53, 70, 1.0f, 0.0f},  {false, false, 64, 33, 129, 1.0f, 1.0f},
      {true, false, 17, 200, 96, 0.5f, 0.0f}, {true, true, 5, 7, 300, 2.0f, 1.0f},
      {false, true, 1, 1, 1, 1.0f, 0.0f},     {false, true, 128, 256, 512, 1.0f, 0.5f}};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Case& t : cases) {
    SCOPED_TRACE(testing::Message() << t.trans_a << t.trans_b << " " << t.m << "x" << t.n << "x"
                                    << t.k << " alpha " << t.alpha << " beta " << t.beta);
    // Padded leading dimensions: strides are honoured.
    const int64_t a_rows = t.trans_a ? t.k : t.m, a_cols = t.trans_a ? t.m : t.k;
    const int64_t b_rows = t.trans_b ? t.n : t.k, b_cols = t.trans_b ? t.k : t.n;
    const int64_t lda = a_cols + 3, ldb = b_cols + 1, ldc = t.n + 2;
    std::vector<float> a(a_rows * lda), b(b_rows * ldb), c0(t.m * ldc);
    for (float& v : a) v = normal(rng);
    for (float& v : b) v = normal(rng);
    for (float& v : c0) v = normal(rng);
    std::vector<float> c32 = c0, c16 = c0;
    Gemm(GemmDtype::kF32, t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(),
         ldb, t.beta, c32.data(), ldc);
    Gemm(GemmDtype::kBf16, t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(),
         ldb, t.beta, c16.data(), ldc);
    // The same with the operands converted ahead of time: identical.
    std::vector<uint16_t> a16(a.size()), b16(b.size());
    ToBf16(a.data(), a.size(), a16.data());
    ToBf16(b.data(), b.size(), b16.data());
    std::vector<float> cpre = c0;
    Gemm(GemmDtype::kBf16, t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, nullptr, lda, nullptr, ldb,
         t.beta, cpre.data(), ldc, a16.data(), b16.data());
    auto at = [&](const std::vector<float>& x, int64_t ld, bool trans, int64_t r, int64_t c) {
      return trans ? x[c * ld + r] : x[r * ld + c];
    };
    auto at16 = [&](const std::vector<uint16_t>& x, int64_t ld, bool trans, int64_t r, int64_t c) {
      return static_cast<double>(Bf16ToFloat(trans ? x[c * ld + r] : x[r * ld + c]));
    };
    double worst = 0;
    for (int64_t r = 0; r < t.m; ++r) {
      for (int64_t col = 0; col < t.n; ++col) {
        double magnitude = 0, exact16 = 0;
        for (int64_t i = 0; i < t.k; ++i) {
          magnitude += std::fabs(at(a, lda, t.trans_a, r, i) * at(b, ldb, t.trans_b, i, col));
          exact16 += at16(a16, lda, t.trans_a, r, i) * at16(b16, ldb, t.trans_b, i, col);
        }
        const double bound = std::fabs(t.alpha) * magnitude * (1.0 / 256 + 1e-5) + 1e-5;
        const double got = c16[r * ldc + col];
        ASSERT_LE(std::fabs(got - c32[r * ldc + col]), bound) << r << "," << col;
        const double reference = t.alpha * exact16 + t.beta * c0[r * ldc + col];
        ASSERT_NEAR(got, reference, std::fabs(t.alpha) * magnitude * 1e-5 + 1e-5);
        ASSERT_EQ(got, cpre[r * ldc + col]);
        worst = std::max(worst, std::fabs(got - c32[r * ldc + col]) / (magnitude + 1e-30));
      }
    }
    // Not exact either: the operands really were rounded.
    if (t.k > 1) {
      EXPECT_GT(worst, 1e-6);
    }
  }
}

TEST(GemmBf16, EmptyInnerDimensionScalesC) {
  std::vector<float> c = {1.0f, 2.0f, 3.0f, 4.0f};
  Gemm(GemmDtype::kBf16, false, true, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 1, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
}

TEST(GemmBf16, SupportFollowsTheCpu) {
  // Either supported, or a message that names the instructions and the way out.
  const Status status = Bf16GemmSupported();
  if (!status.ok()) {
    EXPECT_NE(status.message().find("AVX512_BF16"), std::string::npos);
    EXPECT_NE(status.message().find("--dtype f32"), std::string::npos);
  }
}

}  // namespace
}  // namespace mg::kernels
