// The step kernels of every ISA the CPU supports against independent
// references: dropout masks bit for bit against DropoutKeep, the fused GELU
// against GeluForward/GeluBackward (finite-difference tested in ops_test),
// and AdamW and the squared norm against double-precision formulas.
#include "train/step_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "train/ops.h"

namespace mg::train {
namespace {

std::vector<float> Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<const StepKernelTable*> Tables() {
  std::vector<const StepKernelTable*> tables = {&ScalarStepKernels()};
  if (kernels::IsaSupported(kernels::Isa::kAvx2)) tables.push_back(&Avx2StepKernels());
  if (kernels::IsaSupported(kernels::Isa::kAvx512)) tables.push_back(&Avx512StepKernels());
  return tables;
}

TEST(StepKernels, DropoutMasksMatchDropoutKeep) {
  const float p = 0.1f;
  const uint32_t threshold = static_cast<uint32_t>(p * 65536.0f + 0.5f);
  const float scale = 1.0f / (1.0f - p);
  const uint64_t key = DropoutKey(9, 2, 5);
  const auto src = Random(1100, 1), residual = Random(1100, 2);
  for (const StepKernelTable* table : Tables()) {
    for (uint64_t base : {0, 1, 2, 3, 5, 4093}) {
      for (int64_t n : {0, 1, 31, 32, 33, 100, 1000}) {
        for (bool with_residual : {false, true}) {
          std::vector<float> dst(n, -7.0f);
          table->dropout(src.data(), with_residual ? residual.data() : nullptr, dst.data(), n, key,
                         base, threshold, scale);
          for (int64_t i = 0; i < n; ++i) {
            const float kept = DropoutKeep(key, base + i, p) ? src[i] * scale : 0.0f;
            ASSERT_EQ(dst[i], with_residual ? kept + residual[i] : kept)
                << "base " << base << " n " << n << " i " << i;
          }
        }
      }
    }
  }
  // The op in place and with a residual, across chunks and threads.
  const int64_t n = 10001;
  auto x = Random(n, 3), r = Random(n, 4);
  std::vector<float> fused(n);
  Dropout(x.data(), r.data(), fused.data(), n, key, p);
  Dropout(x.data(), n, key, p);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(fused[i], x[i] + r[i]);
}

TEST(StepKernels, BiasGeluMatchesGeluOps) {
  const int64_t rows = 3, cols = 37;
  const auto x = Random(rows * cols, 5), bias = Random(cols, 6);
  std::vector<float> z(rows * cols), ones(rows * cols, 1.0f), want_y(rows * cols),
      want_d(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) z[i] = x[i] + bias[i % cols];
  GeluForward(z.data(), rows * cols, want_y.data());
  GeluBackward(z.data(), ones.data(), rows * cols, want_d.data());
  for (const StepKernelTable* table : Tables()) {
    std::vector<float> d = x, y(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
      table->bias_gelu_with_grad(d.data() + r * cols, bias.data(), cols, y.data() + r * cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      EXPECT_NEAR(y[i], want_y[i], 1e-6f * (1.0f + std::abs(want_y[i])));
      EXPECT_NEAR(d[i], want_d[i], 1e-6f * (1.0f + std::abs(want_d[i])));
    }
    std::vector<float> dy = Random(rows * cols, 7), dx(rows * cols);
    table->multiply(dy.data(), d.data(), dx.data(), rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) EXPECT_EQ(dx[i], dy[i] * d[i]);
  }
}

TEST(StepKernels, AdamWAndNormMatchDoubleFormulas) {
  const int64_t n = 1003;
  const auto g = Random(n, 8), p0 = Random(n, 9), m0 = Random(n, 10), v_raw = Random(n, 11);
  std::vector<float> v0(n);
  for (int64_t i = 0; i < n; ++i) v0[i] = v_raw[i] * v_raw[i];
  const AdamWConstants c{0.9f,
                         0.999f,
                         1e-8f,
                         1e-3f / (1 - 0.9f * 0.9f),
                         std::sqrt(1 - 0.999f * 0.999f),
                         1.0f - 1e-3f * 0.01f,
                         0.5f};
  double want_sum = 0;
  for (float x : g) want_sum += static_cast<double>(x) * x;
  for (const StepKernelTable* table : Tables()) {
    EXPECT_NEAR(table->sum_squares(g.data(), n), want_sum, 1e-12 * want_sum);
    std::vector<float> p = p0, m = m0, v = v0;
    table->adamw(p.data(), g.data(), m.data(), v.data(), n, c);
    for (int64_t i = 0; i < n; ++i) {
      const double grad = static_cast<double>(g[i]) * c.grad_scale;
      const double mi = c.beta1 * static_cast<double>(m0[i]) + (1 - c.beta1) * grad;
      const double vi = c.beta2 * static_cast<double>(v0[i]) + (1 - c.beta2) * grad * grad;
      const double pi = p0[i] * static_cast<double>(c.decay) -
                        c.step_size * mi / (std::sqrt(vi) / c.sqrt_correction2 + c.eps);
      EXPECT_NEAR(m[i], mi, 1e-6 * (1 + std::abs(mi)));
      EXPECT_NEAR(v[i], vi, 1e-6 * (1 + std::abs(vi)));
      EXPECT_NEAR(p[i], pi, 1e-6 * (1 + std::abs(pi)));
    }
  }
}

TEST(StepKernels, LayerNormAndColumnSumsMatchScalar) {
  // The scalar table is checked by finite differences (train_ops_test with
  // MG_ISA=scalar); the vector tables must agree with it.
  const int64_t rows = 5, cols = 77;
  const auto x = Random(rows * cols, 12), gamma = Random(cols, 13), beta = Random(cols, 14);
  const auto dy = Random(rows * cols, 15);
  auto run = [&](const StepKernelTable& t) {
    std::vector<float> y(rows * cols), xhat(rows * cols), rstd(rows), dx(rows * cols);
    std::vector<float> sum_a(64, 1.0f), sum_ab(64, 2.0f);
    t.layer_norm(x.data(), rows, cols, gamma.data(), beta.data(), 1e-5f, y.data(), xhat.data(),
                 rstd.data());
    t.layer_norm_backward(dy.data(), xhat.data(), rstd.data(), gamma.data(), rows, cols, dx.data());
    t.column_sums(dy.data() + 13, xhat.data() + 13, rows, 64, cols, sum_a.data(), sum_ab.data());
    std::vector<float> all = y;
    for (const auto* v : {&xhat, &rstd, &dx, &sum_a, &sum_ab})
      all.insert(all.end(), v->begin(), v->end());
    return all;
  };
  const std::vector<float> want = run(ScalarStepKernels());
  for (const StepKernelTable* table : Tables()) {
    const std::vector<float> got = run(*table);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::abs(want[i]))) << i;
  }
  // Independent check of the column sums.
  std::vector<float> sum_a(64, 1.0f), sum_ab(64, 2.0f);
  ScalarStepKernels().column_sums(dy.data() + 13, x.data() + 13, rows, 64, cols, sum_a.data(),
                                  sum_ab.data());
  for (int64_t c = 0; c < 64; ++c) {
    double a = 1.0, ab = 2.0;
    for (int64_t r = 0; r < rows; ++r) {
      a += dy[r * cols + 13 + c];
      ab += static_cast<double>(dy[r * cols + 13 + c]) * x[r * cols + 13 + c];
    }
    EXPECT_NEAR(sum_a[c], a, 1e-5);
    EXPECT_NEAR(sum_ab[c], ab, 1e-5);
  }
}

}  // namespace
}  // namespace mg::train
