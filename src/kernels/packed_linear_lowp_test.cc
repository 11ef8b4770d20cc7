// PackedLinear in bf16 and int8 against references computed here in double:
// an emulation of the same quantisation (tight), and the F32 layer within
// the error bound that the scales imply (so a layer with wrong scales fails).
#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/packed_linear.h"
#include "kernels/quantize.h"

namespace mg::kernels {
namespace {

// GELU's largest slope (at x ~ 1.41): how far it can stretch an input error.
constexpr double kGeluLipschitz = 1.13;

double Gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

std::vector<float> Random(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Weights whose output channels differ in size by up to 100x, so one scale
// for the whole matrix would lose the small channels.
std::vector<float> ChannelWeights(int64_t out, int64_t in, uint32_t seed) {
  std::vector<float> w = Random(out * in, 1.0f, seed);
  for (int64_t n = 0; n < out; ++n) {
    const float magnitude = n % 3 == 0 ? 1.0f : n % 3 == 1 ? 0.1f : 0.01f;
    for (int64_t k = 0; k < in; ++k) w[n * in + k] *= magnitude;
  }
  return w;
}

float MaxAbs(const float* x, int64_t n) {
  float max = 0;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, std::fabs(x[i]));
  return max;
}

// The int8 scheme the layer documents, written out: symmetric per-channel
// weights, one symmetric scale for the whole input.
// Scales are F32 and codes round(v * (1 / scale)), as the layer computes them.
struct Int8Reference {
  std::vector<float> weight_scales;
  float input_scale = 0;
  std::vector<double> y;
};

Int8Reference EmulateInt8(const std::vector<float>& x, int64_t rows, const std::vector<float>& w,
                          const std::vector<float>& b, int64_t in, int64_t out, bool gelu,
                          int64_t scale_shift = 0) {
  Int8Reference ref;
  ref.input_scale = MaxAbs(x.data(), rows * in) / 127.0f;
  for (int64_t n = 0; n < out; ++n) ref.weight_scales.push_back(MaxAbs(&w[n * in], in) / 127.0f);
  auto code = [](float v, float scale) {
    return std::clamp(static_cast<double>(std::nearbyint(v * (1.0f / scale))), -127.0, 127.0);
  };
  ref.y.resize(rows * out);
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t n = 0; n < out; ++n) {
      const float ws = ref.weight_scales[n];
      double sum = 0;
      for (int64_t k = 0; k < in; ++k)
        sum += code(x[m * in + k], ref.input_scale) * code(w[n * in + k], ws);
      // scale_shift != 0 scales the sums back with another channel's scale:
      // what a layer that mixed up its scales would give.
      const double v = sum * ref.input_scale * ref.weight_scales[(n + scale_shift) % out] + b[n];
      ref.y[m * out + n] = gelu ? Gelu(v) : v;
    }
  }
  return ref;
}

std::vector<double> F32Reference(const std::vector<float>& x, int64_t rows,
                                 const std::vector<float>& w, const std::vector<float>& b,
                                 int64_t in, int64_t out, bool gelu) {
  std::vector<double> y(rows * out);
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t n = 0; n < out; ++n) {
      double sum = b[n];
      for (int64_t k = 0; k < in; ++k) sum += static_cast<double>(x[m * in + k]) * w[n * in + k];
      y[m * out + n] = gelu ? Gelu(sum) : sum;
    }
  }
  return y;
}

// |x.w - x'.w'| for x' = x + dx, w' = w + dw with |dx| <= sx/2, |dw| <= sw/2:
// at most sum_k |x_k| sw/2 + |w_k| sx/2 + sx sw/4, stretched by GELU's slope.
std::vector<double> Int8Bound(const std::vector<float>& x, int64_t rows,
                              const std::vector<float>& w, int64_t in, int64_t out, bool gelu,
                              const Int8Reference& scales) {
  std::vector<double> bound(rows * out);
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t n = 0; n < out; ++n) {
      const double sx = scales.input_scale, sw = scales.weight_scales[n];
      double e = 0;
      for (int64_t k = 0; k < in; ++k)
        e += std::fabs(x[m * in + k]) * sw / 2 + std::fabs(w[n * in + k]) * sx / 2 + sx * sw / 4;
      bound[m * out + n] = (gelu ? kGeluLipschitz : 1.0) * e + 1e-5;
    }
  }
  return bound;
}

// Elements of `got` outside want +- bound.
template <typename T>
int64_t Outside(const std::vector<T>& got, const std::vector<double>& want,
                const std::vector<double>& bound) {
  int64_t count = 0;
  for (size_t i = 0; i < got.size(); ++i) count += std::fabs(got[i] - want[i]) > bound[i];
  return count;
}

TEST(PrecisionTest, NamesRoundTripAndBadNamesAreClearErrors) {
  for (Precision p : {Precision::kF32, Precision::kBf16, Precision::kInt8}) {
    ASSERT_TRUE(ParsePrecision(PrecisionName(p)).ok());
    EXPECT_EQ(ParsePrecision(PrecisionName(p)).value(), p);
  }
  const auto bad = ParsePrecision("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp16"), std::string::npos);
  EXPECT_NE(bad.status().message().find("f32, bf16 or int8"), std::string::npos);
}

TEST(QuantizeTest, RowsGetTheirOwnScaleAndRoundToNearest) {
  const int64_t rows = 6, cols = 37;
  const auto w = ChannelWeights(rows, cols, 3);
  std::vector<int8_t> q(rows * cols);
  std::vector<float> scales(rows);
  QuantizeRowsS8(w.data(), rows, cols, q.data(), scales.data());
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_FLOAT_EQ(scales[r], MaxAbs(&w[r * cols], cols) / 127.0f);
    for (int64_t c = 0; c < cols; ++c) {
      EXPECT_EQ(q[r * cols + c], std::nearbyint(w[r * cols + c] * (1.0f / scales[r])))
          << r << "," << c;
      EXPECT_LE(std::fabs(w[r * cols + c] - q[r * cols + c] * scales[r]), scales[r] / 2 * 1.0001f);
    }
  }
  const std::vector<float> zero(cols, 0.0f);
  QuantizeRowsS8(zero.data(), 1, cols, q.data(), scales.data());
  EXPECT_EQ(scales[0], 1.0f);
  EXPECT_EQ(q[0], 0);
}

// Weights stored quantised must load as the model they came from: the
// dequantised matrix quantises to the very same codes and scales. Rows span
// twelve binades and every mantissa of the scale.
TEST(QuantizeTest, DequantisedRowsQuantiseToTheSameCodesAndScales) {
  const int64_t rows = 4096, cols = 24;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f), exponent(-8.0f, 4.0f);
  std::vector<float> w(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float magnitude = std::exp2(exponent(rng));
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] = unit(rng) * magnitude;
  }
  std::fill_n(w.begin() + 5 * cols, cols, 0.0f);  // an all-zero row
  std::vector<int8_t> q(w.size()), q2(w.size());
  std::vector<float> scales(rows), scales2(rows), back(w.size());
  QuantizeRowsS8(w.data(), rows, cols, q.data(), scales.data());
  for (int64_t i = 0; i < rows * cols; ++i)
    back[i] = static_cast<float>(q[i]) * scales[i / cols];  // as a stored-int8 checkpoint reads
  QuantizeRowsS8(back.data(), rows, cols, q2.data(), scales2.data());
  for (int64_t r = 0; r < rows; ++r) {
    ASSERT_EQ(scales2[r], scales[r]) << "row " << r;
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_EQ(q2[r * cols + c], q[r * cols + c]) << r << "," << c;
    }
  }
}

TEST(QuantizeTest, ActivationsUseOneScaleOnManyThreads) {
  const auto x = Random(200000, 2.0f, 4);  // above the parallel threshold
  std::vector<int8_t> q(x.size());
  const float scale = QuantizeS8(x.data(), static_cast<int64_t>(x.size()), q.data());
  EXPECT_FLOAT_EQ(scale, MaxAbs(x.data(), static_cast<int64_t>(x.size())) / 127.0f);
  for (size_t i = 0; i < x.size(); i += 7)
    EXPECT_EQ(q[i], std::nearbyint(x[i] * (1.0f / scale))) << i;
}

TEST(QuantizeTest, Bf16RoundsToNearestEven) {
  auto bits = [](float v) {
    uint16_t out;
    ToBf16(&v, 1, &out);
    return out;
  };
  EXPECT_EQ(bits(1.0f), 0x3f80);
  EXPECT_EQ(bits(-2.0f), 0xc000);
  EXPECT_EQ(bits(1.0f + 1.0f / 256), 0x3f80);  // halfway: to even (down)
  EXPECT_EQ(bits(1.0f + 3.0f / 256), 0x3f82);  // halfway: to even (up)
  EXPECT_EQ(bits(1.0f + 1.5f / 256), 0x3f81);  // above halfway: up
  EXPECT_EQ(bits(NAN) & 0x7fc0, 0x7fc0);       // still a NaN
}

// Without VNNI oneDNN's int8 products saturate, so int8 must fall back to F32
// there (CTest also runs this file with ONEDNN_MAX_CPU_ISA=AVX2).
TEST(PackedLinearTest, Int8RunsOnlyWithVnniAndOtherwiseMatchesF32) {
  const unsigned isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto vnni = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_vnni);
  const auto avx2_vnni = static_cast<unsigned>(dnnl_cpu_isa_avx2_vnni);
  const bool has_vnni = (isa & vnni) == vnni || (isa & avx2_vnni) == avx2_vnni;
  const int64_t in = 72, out = 45, rows = 5;
  const auto w = ChannelWeights(out, in, 7);
  const auto b = Random(out, 0.5f, 8);
  PackedLinear linear(w.data(), b.data(), in, out, Activation::kNone, Precision::kInt8);
  EXPECT_EQ(linear.precision(), has_vnni ? Precision::kInt8 : Precision::kF32);
  if (has_vnni) return;
  const auto x = Random(rows * in, 1.5f, 3);
  std::vector<float> y(rows * out);
  linear.Run(x.data(), rows, y.data());
  const auto exact = F32Reference(x, rows, w, b, in, out, false);
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(y[i], exact[i], 1e-4 + 1e-4 * std::fabs(exact[i]));
}

class PackedLinearLowpTest : public testing::TestWithParam<Activation> {};

TEST_P(PackedLinearLowpTest, Int8MatchesTheQuantisedArithmetic) {
  const bool gelu = GetParam() == Activation::kGeluErf;
  const int64_t in = 72, out = 45;
  const auto w = ChannelWeights(out, in, 7);
  const auto b = Random(out, 0.5f, 8);
  PackedLinear linear(w.data(), b.data(), in, out, GetParam(), Precision::kInt8);
  if (linear.precision() != Precision::kInt8) GTEST_SKIP() << "no int8 kernels on this CPU";
  for (int64_t rows : {1, 7, 128, 129}) {
    const auto x = Random(rows * in, 1.5f, static_cast<uint32_t>(rows));
    std::vector<float> y(rows * out);
    linear.Run(x.data(), rows, y.data());
    const Int8Reference ref = EmulateInt8(x, rows, w, b, in, out, gelu);
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], ref.y[i], 1e-4 + 1e-4 * std::fabs(ref.y[i]))
          << "rows " << rows << " at " << i;
    // And against the F32 layer, within the error the scales allow.
    const auto exact = F32Reference(x, rows, w, b, in, out, gelu);
    EXPECT_EQ(Outside(y, exact, Int8Bound(x, rows, w, in, out, gelu, ref)), 0) << "rows " << rows;
  }
}

TEST_P(PackedLinearLowpTest, TheBoundCatchesWrongScales) {
  // A layer that scaled each channel with its neighbour's scale.
  const bool gelu = GetParam() == Activation::kGeluErf;
  const int64_t in = 72, out = 45, rows = 16;
  const auto w = ChannelWeights(out, in, 7);
  const auto b = Random(out, 0.5f, 8);
  const auto x = Random(rows * in, 1.5f, 9);
  const Int8Reference right = EmulateInt8(x, rows, w, b, in, out, gelu);
  const Int8Reference wrong = EmulateInt8(x, rows, w, b, in, out, gelu, /*scale_shift=*/1);
  const auto exact = F32Reference(x, rows, w, b, in, out, gelu);
  const auto bound = Int8Bound(x, rows, w, in, out, gelu, right);
  EXPECT_EQ(Outside(right.y, exact, bound), 0);
  EXPECT_GT(Outside(wrong.y, exact, bound), rows * out / 2);
}

TEST_P(PackedLinearLowpTest, Bf16WithinRoundingBoundOfF32) {
  const bool gelu = GetParam() == Activation::kGeluErf;
  const int64_t in = 72, out = 45;
  const auto w = ChannelWeights(out, in, 10);
  const auto b = Random(out, 0.5f, 11);
  PackedLinear linear(w.data(), b.data(), in, out, GetParam(), Precision::kBf16);
  if (linear.precision() != Precision::kBf16) GTEST_SKIP() << "no bf16 kernels on this CPU";
  for (int64_t rows : {1, 7, 128, 129}) {
    const auto x = Random(rows * in, 1.5f, static_cast<uint32_t>(rows + 100));
    std::vector<float> y(rows * out);
    linear.Run(x.data(), rows, y.data());
    const auto exact = F32Reference(x, rows, w, b, in, out, gelu);
    // Each factor is within 2^-9 relative of its bfloat16 value.
    std::vector<double> bound(rows * out);
    for (int64_t m = 0; m < rows; ++m) {
      for (int64_t n = 0; n < out; ++n) {
        double e = 0;
        for (int64_t k = 0; k < in; ++k)
          e += std::fabs(x[m * in + k] * w[n * in + k]) * (2.0 / 512 + 1.0 / (512.0 * 512.0));
        bound[m * out + n] = (gelu ? kGeluLipschitz : 1.0) * e + 1e-5;
      }
    }
    EXPECT_EQ(Outside(y, exact, bound), 0) << "rows " << rows;
    // Not F32 in disguise: bfloat16 rounding shows somewhere.
    int64_t differ = 0;
    for (size_t i = 0; i < y.size(); ++i) differ += std::fabs(y[i] - exact[i]) > 1e-5;
    EXPECT_GT(differ, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, PackedLinearLowpTest,
                         testing::Values(Activation::kNone, Activation::kGeluErf));

}  // namespace
}  // namespace mg::kernels
