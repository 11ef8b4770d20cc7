// Every vector kernel against the scalar reference, for each ISA this CPU
// supports, on sizes that exercise full vectors and every tail length.
#include "kernels/kernels.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/packed_linear.h"

namespace mg::kernels {
namespace {

std::vector<float> Random(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, float rel,
                 float abs, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i])) << what << " at " << i;
  }
}

class KernelIsaTest : public testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!IsaSupported(GetParam())) GTEST_SKIP() << IsaName(GetParam()) << " not supported here";
  }
  const KernelTable& vec() { return KernelsFor(GetParam()); }
  const KernelTable& ref() { return ScalarKernels(); }
};

TEST_P(KernelIsaTest, ElementwiseWithBias) {
  for (int64_t cols : {1, 7, 8, 15, 16, 17, 33, 768}) {
    const int64_t rows = 3;
    auto x = Random(rows * cols, 3.0f, 1);
    auto bias = Random(cols, 1.0f, 2);
    for (int kind = 0; kind < 3; ++kind) {
      auto a = x, b = x;
      auto run = [&](const KernelTable& t, std::vector<float>& v) {
        if (kind == 0) t.add_bias(v.data(), bias.data(), rows, cols);
        if (kind == 1) t.bias_gelu(v.data(), bias.data(), rows, cols);
        if (kind == 2) t.bias_tanh(v.data(), bias.data(), rows, cols);
      };
      run(vec(), a);
      run(ref(), b);
      ExpectClose(a, b, 1e-5f, 2e-6f,
                  "kind " + std::to_string(kind) + " cols " + std::to_string(cols));
    }
  }
}

TEST_P(KernelIsaTest, QuantizeS8IsBitIdenticalToScalar) {
  for (int64_t n : {0, 1, 7, 15, 16, 17, 33, 768, 1000}) {
    auto x = Random(n, 4.0f, 5);
    if (n > 3) {
      x[1] = 0.5f;    // ties round to even: 0
      x[2] = -1.5f;   // -2
      x[3] = 400.0f;  // clamped to 127
    }
    EXPECT_EQ(vec().max_abs(x.data(), n), ref().max_abs(x.data(), n)) << "n " << n;
    for (float inverse : {1.0f, 31.75f, 1e-3f}) {
      std::vector<int8_t> a(n, 99), b(n, -99);
      vec().quantize_s8(x.data(), n, inverse, a.data());
      ref().quantize_s8(x.data(), n, inverse, b.data());
      EXPECT_EQ(a, b) << "n " << n << " inverse " << inverse;
    }
  }
  const float ties[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 126.5f, -127.6f, 1e9f};
  const int8_t want[] = {0, 2, 2, 0, -2, 126, -127, 127};
  int8_t got[8];
  vec().quantize_s8(ties, 8, 1.0f, got);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], want[i]) << ties[i];
  const float with_nan[] = {1.0f, std::nanf(""), -3.0f};
  EXPECT_EQ(vec().max_abs(with_nan, 3), 3.0f);
}

TEST_P(KernelIsaTest, ToBf16IsBitIdenticalToScalar) {
  for (int64_t n : {0, 1, 15, 16, 17, 1000}) {
    auto x = Random(n, 1e3f, 6);
    if (n > 2) {
      x[0] = std::nanf("");
      x[1] = std::numeric_limits<float>::infinity();
    }
    std::vector<uint16_t> a(n, 1), b(n, 2);
    vec().to_bf16(x.data(), n, a.data());
    ref().to_bf16(x.data(), n, b.data());
    EXPECT_EQ(a, b) << "n " << n;
  }
}

TEST_P(KernelIsaTest, GeluExtremes) {
  std::vector<float> x = {-20.0f, -8.0f, -3.0f, -1e-3f, 0.0f, 1e-3f,
                          3.0f,   8.0f,  20.0f, -0.5f,  0.5f};
  std::vector<float> bias(x.size(), 0.0f);
  auto a = x, b = x;
  vec().bias_gelu(a.data(), bias.data(), 1, static_cast<int64_t>(x.size()));
  ref().bias_gelu(b.data(), bias.data(), 1, static_cast<int64_t>(x.size()));
  ExpectClose(a, b, 1e-5f, 1e-7f, "gelu");
}

TEST_P(KernelIsaTest, GeluAndGeluBackward) {
  for (int64_t n : {1, 7, 16, 33, 1000}) {
    auto x = Random(n, 4.0f, 5);
    auto dy = Random(n, 1.0f, 6);
    std::vector<float> a(n), b(n), ga(n), gb(n);
    vec().gelu(x.data(), a.data(), n);
    ref().gelu(x.data(), b.data(), n);
    ExpectClose(a, b, 1e-5f, 1e-7f, "gelu n " + std::to_string(n));
    vec().gelu_backward(x.data(), dy.data(), ga.data(), n);
    ref().gelu_backward(x.data(), dy.data(), gb.data(), n);
    ExpectClose(ga, gb, 1e-5f, 1e-7f, "gelu_backward n " + std::to_string(n));
  }
}

TEST_P(KernelIsaTest, LayerNorm) {
  for (int64_t cols : {1, 5, 16, 31, 384, 768}) {
    const int64_t rows = 4;
    auto x = Random(rows * cols, 2.0f, 3);
    auto residual = Random(rows * cols, 1.0f, 4);
    auto bias = Random(cols, 0.5f, 5);
    auto gamma = Random(cols, 1.0f, 6);
    auto beta = Random(cols, 1.0f, 7);
    for (bool with_extras : {false, true}) {
      auto a = x, b = x;
      const float* bias_ptr = with_extras ? bias.data() : nullptr;
      const float* res_ptr = with_extras ? residual.data() : nullptr;
      vec().bias_residual_layernorm(a.data(), bias_ptr, res_ptr, gamma.data(), beta.data(), rows,
                                    cols, 1e-12f);
      ref().bias_residual_layernorm(b.data(), bias_ptr, res_ptr, gamma.data(), beta.data(), rows,
                                    cols, 1e-12f);
      ExpectClose(a, b, 1e-4f, 1e-5f, "layernorm cols " + std::to_string(cols));
    }
  }
}

TEST_P(KernelIsaTest, MaskedSoftmax) {
  for (int64_t n : {1, 9, 16, 40, 128}) {
    for (int64_t valid : {int64_t{1}, n / 2 + 1, n}) {
      auto x = Random(n, 4.0f, 8);
      auto a = x, b = x;
      vec().masked_softmax(a.data(), n, valid);
      ref().masked_softmax(b.data(), n, valid);
      ExpectClose(a, b, 1e-5f, 1e-7f, "softmax n " + std::to_string(n));
      for (int64_t j = valid; j < n; ++j) ASSERT_EQ(a[j], 0.0f);
    }
  }
}

TEST_P(KernelIsaTest, AttentionHead) {
  for (int64_t seq_len : {1, 3, 4, 5, 16, 37, 128, 130}) {
    for (int64_t head_dim : {8, 32, 64}) {
      const int64_t stride = 3 * head_dim * 2;  // q, k, v interleaved as in a fused QKV buffer
      auto qkv = Random(seq_len * stride, 1.0f, 9);
      std::vector<float> a(seq_len * head_dim), b(seq_len * head_dim);
      std::vector<float> scratch(AttentionScratchFloats(seq_len, head_dim));
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      vec().attention_head(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim, stride,
                           a.data(), head_dim, seq_len, head_dim, scale, scratch.data());
      ref().attention_head(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim, stride,
                           b.data(), head_dim, seq_len, head_dim, scale, scratch.data());
      ExpectClose(a, b, 1e-4f, 1e-5f, "attention L " + std::to_string(seq_len));
    }
  }
}

TEST_P(KernelIsaTest, AttentionHeadWindow) {
  for (int64_t seq_len : {1, 5, 16, 37, 128, 130}) {
    for (int64_t head_dim : {8, 64}) {
      for (int64_t radius : {int64_t{0}, int64_t{1}, int64_t{6}, int64_t{64}, seq_len}) {
        const int64_t stride = 3 * head_dim * 2;
        auto qkv = Random(seq_len * stride, 1.0f, 10);
        std::vector<float> a(seq_len * head_dim), b(seq_len * head_dim);
        std::vector<float> scratch(AttentionScratchFloats(seq_len, head_dim));
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        const std::string what = "window L " + std::to_string(seq_len) + " d " +
                                 std::to_string(head_dim) + " r " + std::to_string(radius);
        vec().attention_head_window(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim,
                                    stride, a.data(), head_dim, seq_len, head_dim, scale, radius,
                                    scratch.data());
        ref().attention_head_window(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim,
                                    stride, b.data(), head_dim, seq_len, head_dim, scale, radius,
                                    scratch.data());
        ExpectClose(a, b, 1e-4f, 1e-5f, what);
        // Against the definition, in double: softmax over the window only.
        for (int64_t i = 0; i < seq_len; ++i) {
          const int64_t first = std::max<int64_t>(0, i - radius);
          const int64_t last = std::min(seq_len - 1, i + radius);
          std::vector<double> p;
          double max = -1e300, sum = 0;
          for (int64_t j = first; j <= last; ++j) {
            double dot = 0;
            for (int64_t d = 0; d < head_dim; ++d)
              dot += double{qkv[i * stride + d]} * qkv[j * stride + head_dim + d];
            p.push_back(dot * scale);
            max = std::max(max, p.back());
          }
          for (double& x : p) sum += (x = std::exp(x - max));
          for (int64_t d = 0; d < head_dim; ++d) {
            double want = 0;
            for (int64_t j = first; j <= last; ++j)
              want += p[j - first] / sum * qkv[j * stride + 2 * head_dim + d];
            ASSERT_NEAR(a[i * head_dim + d], want, 1e-4) << what << " row " << i;
          }
        }
        if (radius >= seq_len) {  // the whole sequence: attention_head's answer
          std::vector<float> full(seq_len * head_dim);
          vec().attention_head(qkv.data(), qkv.data() + head_dim, qkv.data() + 2 * head_dim, stride,
                               full.data(), head_dim, seq_len, head_dim, scale, scratch.data());
          EXPECT_EQ(a, full) << what;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, KernelIsaTest, testing::Values(Isa::kAvx2, Isa::kAvx512),
                         [](const testing::TestParamInfo<Isa>& param) {
                           return std::string(IsaName(param.param));
                         });

TEST(ScalarKernelTest, GeluMatchesDefinition) {
  std::vector<float> x = {-2.0f, 0.0f, 1.0f};
  std::vector<float> bias = {0.0f, 0.0f, 0.0f};
  ScalarKernels().bias_gelu(x.data(), bias.data(), 1, 3);
  EXPECT_NEAR(x[0], -0.04550026f, 1e-7f);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_NEAR(x[2], 0.84134475f, 1e-7f);
}

TEST(ThreadsTest, AbsurdCountsAreCappedAndZeroMeansAllCores) {
  SetThreads(1 << 20);
  EXPECT_EQ(Threads(), MaxThreads());
  int team = 0;
#pragma omp parallel
  {
#pragma omp single
    team = omp_get_num_threads();
  }
  EXPECT_GE(team, 1);
  EXPECT_LE(team, MaxThreads());
  SetThreads(0);
  EXPECT_EQ(Threads(), omp_get_num_procs());
  SetThreads(3);
  EXPECT_EQ(Threads(), 3);
}

TEST(GemmTest, MatchesNaiveProduct) {
  const int64_t m = 37, n = 29, k = 71;
  auto x = Random(m * k, 1.0f, 10);
  auto w = Random(n * k, 1.0f, 11);
  std::vector<float> y(m * n);
  Linear(x.data(), m, k, w.data(), n, y.data());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += static_cast<double>(x[i * k + p]) * w[j * k + p];
      ASSERT_NEAR(y[i * n + j], acc, 1e-4 * (1 + std::fabs(acc)));
    }
  }
}

}  // namespace
}  // namespace mg::kernels

namespace mg::kernels {
namespace {

TEST(PackedLinearTest, MatchesReferenceForManyRowCounts) {
  const int64_t in = 48, out = 40;
  auto w = Random(out * in, 1.0f, 12);
  auto b = Random(out, 1.0f, 13);
  for (Activation act : {Activation::kNone, Activation::kGeluErf}) {
    PackedLinear linear(w.data(), b.data(), in, out, act);
    for (int64_t rows : {1, 2, 7, 128, 129, 300}) {
      auto x = Random(rows * in, 1.0f, static_cast<uint32_t>(rows));
      std::vector<float> y(rows * out), want(rows * out);
      linear.Run(x.data(), rows, y.data());
      Linear(x.data(), rows, in, w.data(), out, want.data());
      if (act == Activation::kGeluErf) {
        ScalarKernels().bias_gelu(want.data(), b.data(), rows, out);
      } else {
        ScalarKernels().add_bias(want.data(), b.data(), rows, out);
      }
      ExpectClose(y, want, 1e-4f, 1e-5f, "rows " + std::to_string(rows));
    }
  }
}

}  // namespace
}  // namespace mg::kernels
