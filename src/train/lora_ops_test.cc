// LoRA training: finite-difference checks of the adapter op and of a whole
// classifier with a LoRA layout (adapter, head and input gradients), and
// that AdamW steps leave every frozen weight bit-identical.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "train/adamw.h"
#include "train/classifier_net.h"
#include "train/lora_ops.h"
#include "train/ops.h"

namespace mg::train {
namespace {

std::vector<float> Random(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

double Dot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Central differences of `loss` at `count` elements of `x` (all when 0)
// against `grad`, relative to the largest gradient.
void CheckGradient(float* x, const float* grad, size_t n, const std::function<double()>& loss,
                   const char* what, float step = 1e-2f, size_t count = 0) {
  float scale = 1e-6f;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(grad[i]));
  std::mt19937_64 rng(7);
  const size_t checks = count == 0 ? n : count;
  for (size_t k = 0; k < checks; ++k) {
    const size_t i = count == 0 ? k : rng() % n;
    const float saved = x[i];
    x[i] = saved + step;
    const double up = loss();
    x[i] = saved - step;
    const double down = loss();
    x[i] = saved;
    EXPECT_NEAR(grad[i], (up - down) / (2.0 * step), 2e-2 * scale) << what << " element " << i;
  }
}

TEST(LoraOps, ForwardIsTheLowRankProduct) {
  const int64_t rows = 3, in = 5, out = 4, rank = 2, ld = 10;
  const auto x = Random(rows * in, 1), a = Random(rank * in, 2), b = Random(out * rank, 3);
  std::vector<float> y(rows * ld, 0.5f), xa(rows * rank);
  LoraForward(x.data(), rows, in, a.data(), b.data(), rank, out, 0.75f, xa.data(), y.data(), ld);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < ld; ++o) {
      double want = 0.5;
      if (o < out) {
        for (int64_t k = 0; k < rank; ++k)
          want += 0.75 * b[o * rank + k] * Dot(&x[r * in], &a[k * in], in);
      }
      EXPECT_NEAR(y[r * ld + o], want, 1e-5) << r << "," << o;
    }
  }
}

TEST(LoraOps, BackwardMatchesFiniteDifferences) {
  // The adapter writes into a column block of a wider output, as in QKV.
  const int64_t rows = 6, in = 7, out = 5, rank = 3, ld = 12;
  auto x = Random(rows * in, 4), a = Random(rank * in, 5), b = Random(out * rank, 6);
  const auto r = Random(rows * ld, 7);
  const float scale = 2.0f;
  std::vector<float> y(rows * ld), xa(rows * rank);
  auto loss = [&] {
    std::fill(y.begin(), y.end(), 0.0f);
    LoraForward(x.data(), rows, in, a.data(), b.data(), rank, out, scale, xa.data(), y.data(), ld);
    return Dot(y.data(), r.data(), y.size());
  };
  loss();
  std::vector<float> dx(x.size(), 0.0f), da(a.size(), 0.0f), db(b.size(), 0.0f), dxa(rows * rank);
  LoraBackward(x.data(), r.data(), ld, rows, in, a.data(), b.data(), rank, out, scale, xa.data(),
               dxa.data(), dx.data(), da.data(), db.data());
  CheckGradient(x.data(), dx.data(), x.size(), loss, "dx");
  CheckGradient(a.data(), da.data(), a.size(), loss, "dA");
  CheckGradient(b.data(), db.data(), b.size(), loss, "dB");
}

struct LoraClassifier {
  ParamLayout layout;
  std::vector<float> params;
  TrainBatch batch;

  explicit LoraClassifier(bool nonzero_b) {
    model::BertConfig config;
    config.vocab_size = 20, config.hidden_size = 8, config.num_hidden_layers = 2;
    config.num_attention_heads = 2, config.intermediate_size = 12;
    config.max_position_embeddings = 16;
    layout = ParamLayout::For(config, 3, {2, 6.0f});
    InitParams(layout, 0, 5, &params);
    const auto noise = Random(layout.total, 77, 0.1f);
    for (const ParamTensor& t : layout.tensors) {
      if (t.name.ends_with("lora_B.weight") && !nonzero_b) continue;
      for (size_t i = t.offset; i < t.offset + t.size; ++i) params[i] += noise[i];
    }
    batch.ids = {2, 5, 7, 3, 2, 9, 3, 2, 11, 12, 13, 3};
    batch.type_ids = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    batch.offsets = {0, 4, 7, 12};
    batch.targets = {1, 0, 2};
  }
};

TEST(LoraOps, LayoutFreezesTheEncoder) {
  LoraClassifier c(false);
  EXPECT_FLOAT_EQ(c.layout.lora_scale, 3.0f);
  size_t lora = 0;
  for (const ParamTensor& t : c.layout.tensors) {
    const bool head = t.name.starts_with("bert.pooler.") || t.name.starts_with("classifier.");
    EXPECT_EQ(t.trainable, head || IsLoraTensor(t.name)) << t.name;
    lora += IsLoraTensor(t.name);
  }
  EXPECT_EQ(lora, 8u);  // 2 layers x {query, value} x {A, B}
}

TEST(LoraOps, ClassifierGradientsMatchFiniteDifferences) {
  for (bool cls_only : {true, false}) {
    LoraClassifier c(true);
    NetOptions options;
    options.layer_norm_eps = 1e-5f;
    options.last_layer_cls_only = cls_only;
    ClassifierNet net(c.layout, options);
    std::vector<float> grads(c.layout.total), scratch(c.layout.total);
    net.Forward(c.params.data(), c.batch, true, 99);
    net.Backward(c.params.data(), c.batch, grads.data());
    auto loss = [&] {
      net.Forward(c.params.data(), c.batch, true, 99);
      return net.Backward(c.params.data(), c.batch, scratch.data());
    };
    for (const ParamTensor& t : c.layout.tensors) {
      if (!t.trainable) {
        for (size_t i = t.offset; i < t.offset + t.size; ++i)
          ASSERT_EQ(grads[i], 0.0f) << "frozen " << t.name << " got a gradient";
        continue;
      }
      CheckGradient(c.params.data() + t.offset, grads.data() + t.offset, t.size, loss,
                    t.name.c_str(), 1e-2f, std::min<size_t>(t.size, 24));
    }
  }
}

TEST(LoraOps, InputGradientMatchesFiniteDifferences) {
  // d loss / d encoder input, by perturbing the word embedding row of a
  // token that occurs once (no dropout, so the embedding LayerNorm is the
  // only op in between: checked through the chain d/d(row) instead).
  LoraClassifier c(true);
  NetOptions options;
  options.layer_norm_eps = 1e-5f;
  options.hidden_dropout = options.attention_dropout = 0.0f;
  options.input_grad = true;
  ClassifierNet net(c.layout, options);
  std::vector<float> grads(c.layout.total);
  net.Forward(c.params.data(), c.batch, false, 0);
  net.Backward(c.params.data(), c.batch, grads.data());
  const std::vector<float> input_grad = net.input_grad();
  // The encoder input of token t is a LayerNorm of its embedding sum; moving
  // the LayerNorm's beta moves every token's input by the same amount, so
  // d loss / d beta = sum over tokens of the input gradient.
  const int64_t h = c.layout.hidden;
  std::vector<float> dbeta(h, 0.0f);
  for (int64_t t = 0; t < c.batch.tokens(); ++t)
    for (int64_t k = 0; k < h; ++k) dbeta[k] += input_grad[t * h + k];
  std::vector<float> scratch(c.layout.total);
  auto loss = [&] {
    net.Forward(c.params.data(), c.batch, false, 0);
    return net.Backward(c.params.data(), c.batch, scratch.data());
  };
  CheckGradient(c.params.data() + c.layout.embedding_norm_beta, dbeta.data(), h, loss,
                "input gradient (through the embedding LayerNorm beta)");
}

TEST(LoraOps, FrozenWeightsStayBitIdentical) {
  LoraClassifier c(false);
  const std::vector<float> before = c.params;
  ClassifierNet net(c.layout, NetOptions{});
  AdamW optimizer(c.layout, {0.9f, 0.999f, 1e-8f, 0.01f});
  std::vector<float> grads(c.layout.total);
  for (int step = 0; step < 3; ++step) {
    net.Forward(c.params.data(), c.batch, true, 10 + step);
    net.Backward(c.params.data(), c.batch, grads.data());
    optimizer.Step(1e-2f, grads.data(), c.params.data());
  }
  for (const ParamTensor& t : c.layout.tensors) {
    const bool same = std::memcmp(c.params.data() + t.offset, before.data() + t.offset,
                                  t.size * sizeof(float)) == 0;
    // B starts at zero, so A's first gradient is zero; after that both move.
    EXPECT_EQ(same, !t.trainable) << t.name;
  }
}

}  // namespace
}  // namespace mg::train
