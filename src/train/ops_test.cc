// Finite-difference checks of every training op's backward pass, dropout's
// statistics and structure, and a whole classifier's gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "kernels/gemm.h"
#include "train/adamw.h"
#include "train/classifier_net.h"
#include "train/cls_attention.h"
#include "train/loss.h"
#include "train/modernbert_net.h"
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

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Compares `grad` with central differences of `loss` at every element of
// `x` (or `samples` of them), relative to the largest gradient.
void CheckGradient(std::vector<float>* x, const std::vector<float>& grad,
                   const std::function<double()>& loss, const char* what, float step = 1e-2f,
                   size_t samples = 0) {
  ASSERT_EQ(x->size(), grad.size());
  float scale = 1e-6f;
  for (float g : grad) scale = std::max(scale, std::abs(g));
  std::mt19937_64 rng(7);
  const size_t count = samples == 0 ? x->size() : samples;
  for (size_t n = 0; n < count; ++n) {
    const size_t i = samples == 0 ? n : rng() % x->size();
    const float saved = (*x)[i];
    (*x)[i] = saved + step;
    const double up = loss();
    (*x)[i] = saved - step;
    const double down = loss();
    (*x)[i] = saved;
    const double numeric = (up - down) / (2.0 * step);
    EXPECT_NEAR(grad[i], numeric, 2e-2 * scale) << what << " element " << i;
  }
}

TEST(TrainOps, LinearGradients) {
  const int64_t rows = 5, in = 7, out = 6;
  auto x = Random(rows * in, 1), w = Random(out * in, 2), b = Random(out, 3);
  const auto r = Random(rows * out, 4);
  std::vector<float> y(rows * out);
  auto loss = [&] {
    LinearForward(x.data(), rows, in, w.data(), b.data(), out, y.data());
    return Dot(y, r);
  };
  std::vector<float> dx(x.size()), dw(w.size(), 0.0f), db(b.size(), 0.0f);
  LinearBackward(x.data(), r.data(), rows, in, w.data(), out, dx.data(), false, dw.data(),
                 db.data());
  CheckGradient(&x, dx, loss, "dx");
  CheckGradient(&w, dw, loss, "dweight");
  CheckGradient(&b, db, loss, "dbias");
}

TEST(TrainOps, LayerNormGradients) {
  const int64_t rows = 4, cols = 9;
  auto x = Random(rows * cols, 5), g = Random(cols, 6), b = Random(cols, 7);
  const auto r = Random(rows * cols, 8);
  std::vector<float> y(rows * cols), xhat(rows * cols), rstd(rows);
  auto loss = [&] {
    LayerNormForward(x.data(), rows, cols, g.data(), b.data(), 1e-5f, y.data(), xhat.data(),
                     rstd.data());
    return Dot(y, r);
  };
  loss();
  std::vector<float> dx(x.size()), dg(cols, 0.0f), db(cols, 0.0f);
  LayerNormBackward(r.data(), xhat.data(), rstd.data(), g.data(), rows, cols, dx.data(), dg.data(),
                    db.data());
  CheckGradient(&x, dx, loss, "dx", 1e-3f);
  CheckGradient(&g, dg, loss, "dgamma", 1e-3f);
  CheckGradient(&b, db, loss, "dbeta", 1e-3f);
}

TEST(TrainOps, GeluAndTanhGradients) {
  auto x = Random(50, 9, 2.0f);
  const auto r = Random(50, 10);
  std::vector<float> y(50), dx(50);
  auto gelu = [&] {
    GeluForward(x.data(), 50, y.data());
    return Dot(y, r);
  };
  GeluBackward(x.data(), r.data(), 50, dx.data());
  CheckGradient(&x, dx, gelu, "gelu", 1e-3f);
  auto tanh = [&] {
    TanhForward(x.data(), 50, y.data());
    return Dot(y, r);
  };
  tanh();
  TanhBackward(y.data(), r.data(), 50, dx.data());
  CheckGradient(&x, dx, tanh, "tanh", 1e-3f);
}

void CheckAttention(float p) {
  const int64_t heads = 2, head_dim = 3, hidden = heads * head_dim;
  const std::vector<int64_t> offsets = {0, 4, 5, 11};  // lengths 4, 1, 6
  const SequenceOffsets seqs{offsets.data(), 3};
  auto qkv = Random(seqs.tokens() * 3 * hidden, 11);
  const auto r = Random(seqs.tokens() * hidden, 12);
  std::vector<float> probs(AttentionProbsFloats(seqs, heads)), ctx(seqs.tokens() * hidden);
  std::vector<float> dropped(probs.size());
  auto loss = [&] {
    AttentionForward(qkv.data(), seqs, heads, head_dim, p, 99, probs.data(), dropped.data(),
                     ctx.data());
    return Dot(ctx, r);
  };
  loss();
  std::vector<float> dqkv(qkv.size());
  AttentionBackward(qkv.data(), probs.data(), dropped.data(), r.data(), seqs, heads, head_dim, p,
                    dqkv.data());
  CheckGradient(&qkv, dqkv, loss, p > 0 ? "attention with dropout" : "attention", 1e-3f);
}

TEST(TrainOps, AttentionGradients) { CheckAttention(0.0f); }
TEST(TrainOps, AttentionGradientsWithDropout) { CheckAttention(0.3f); }

void CheckClsAttention(float p) {
  const int64_t heads = 2, head_dim = 3, hidden = heads * head_dim;
  const std::vector<int64_t> offsets = {0, 4, 5, 11};  // lengths 4, 1, 6
  const SequenceOffsets seqs{offsets.data(), 3};
  auto qkv = Random(seqs.tokens() * 3 * hidden, 13);
  const auto r = Random(seqs.sequences * hidden, 14);
  std::vector<float> probs(ClsAttentionProbsFloats(seqs, heads)), ctx(seqs.sequences * hidden);
  std::vector<float> dropped(probs.size());
  auto loss = [&] {
    ClsAttentionForward(qkv.data(), seqs, heads, head_dim, p, 98, probs.data(), dropped.data(),
                        ctx.data());
    return Dot(ctx, r);
  };
  loss();
  std::vector<float> dqkv(qkv.size(), 5.0f);
  ClsAttentionBackward(qkv.data(), probs.data(), dropped.data(), r.data(), seqs, heads, head_dim, p,
                       dqkv.data());
  CheckGradient(&qkv, dqkv, loss, p > 0 ? "cls attention with dropout" : "cls attention", 1e-3f);
  if (p > 0) return;
  // Without dropout: the [CLS] rows of full attention.
  loss();
  std::vector<float> full_probs(AttentionProbsFloats(seqs, heads)), full(seqs.tokens() * hidden);
  AttentionForward(qkv.data(), seqs, heads, head_dim, 0.0f, 0, full_probs.data(), nullptr,
                   full.data());
  for (int64_t s = 0; s < seqs.sequences; ++s)
    for (int64_t c = 0; c < hidden; ++c)
      EXPECT_NEAR(ctx[s * hidden + c], full[offsets[s] * hidden + c], 1e-5f);
}

TEST(TrainOps, ClsAttentionGradients) { CheckClsAttention(0.0f); }
TEST(TrainOps, ClsAttentionGradientsWithDropout) { CheckClsAttention(0.3f); }

TEST(TrainOps, AttentionKeepsSequencesApart) {
  // A token's context depends only on its own sequence (packing = masking).
  const int64_t heads = 1, head_dim = 4, hidden = 4;
  const std::vector<int64_t> offsets = {0, 3, 7};
  const SequenceOffsets seqs{offsets.data(), 2};
  auto qkv = Random(7 * 3 * hidden, 13);
  std::vector<float> probs(AttentionProbsFloats(seqs, heads)), ctx(7 * hidden), ctx2(7 * hidden);
  AttentionForward(qkv.data(), seqs, heads, head_dim, 0.0f, 0, probs.data(), nullptr, ctx.data());
  for (int64_t i = 3 * 3 * hidden; i < 7 * 3 * hidden; ++i) qkv[i] += 1.0f;
  AttentionForward(qkv.data(), seqs, heads, head_dim, 0.0f, 0, probs.data(), nullptr, ctx2.data());
  for (int64_t i = 0; i < 3 * hidden; ++i) EXPECT_EQ(ctx[i], ctx2[i]);
}

TEST(TrainOps, EmbeddingGradients) {
  const int64_t hidden = 3;
  const std::vector<int64_t> offsets = {0, 3, 5};
  const SequenceOffsets seqs{offsets.data(), 2};
  const std::vector<int32_t> ids = {1, 4, 1, 2, 0}, types = {0, 0, 1, 1, 0};
  auto word = Random(5 * hidden, 14), pos = Random(4 * hidden, 15), type = Random(2 * hidden, 16);
  const auto r = Random(5 * hidden, 17);
  std::vector<float> x(5 * hidden);
  auto loss = [&] {
    EmbeddingForward(ids.data(), types.data(), seqs, word.data(), pos.data(), type.data(), hidden,
                     x.data());
    return Dot(x, r);
  };
  std::vector<float> dw(word.size(), 0.0f), dp(pos.size(), 0.0f), dt(type.size(), 0.0f);
  EmbeddingBackward(ids.data(), types.data(), seqs, r.data(), hidden, dw.data(), dp.data(),
                    dt.data());
  CheckGradient(&word, dw, loss, "word");
  CheckGradient(&pos, dp, loss, "position");
  CheckGradient(&type, dt, loss, "token type");
}

TEST(TrainOps, DropoutStatisticsAndStructure) {
  const int64_t n = 200000;
  std::vector<float> x(n, 1.0f);
  Dropout(x.data(), n, DropoutKey(42, 3, 1), 0.1f);
  int64_t zeros = 0;
  for (float v : x) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.9f);
    }
  }
  // Binomial(200000, 0.1): sd ~134, so 5 sd is +-670.
  EXPECT_NEAR(static_cast<double>(zeros), 0.1 * n, 670.0);
  std::vector<float> again(n, 1.0f), other(n, 1.0f);
  Dropout(again.data(), n, DropoutKey(42, 3, 1), 0.1f);
  EXPECT_EQ(x, again);
  Dropout(other.data(), n, DropoutKey(42, 4, 1), 0.1f);
  EXPECT_NE(x, other);
  // Thread count does not change the mask.
  kernels::SetThreads(1);
  std::vector<float> single(n, 1.0f);
  Dropout(single.data(), n, DropoutKey(42, 3, 1), 0.1f);
  kernels::SetThreads(0);
  EXPECT_EQ(x, single);
}

TEST(TrainOps, LossGradients) {
  const int64_t batch = 3, labels = 4;
  auto logits = Random(batch * labels, 18);
  const std::vector<float> classes = {2, 0, 3};
  auto soft = Random(batch * labels, 19);
  for (float& v : soft) v = v > 0 ? 1.0f : 0.0f;
  for (auto problem : {model::ProblemType::kSingleLabel, model::ProblemType::kMultiLabel,
                       model::ProblemType::kRegression}) {
    const float* targets =
        problem == model::ProblemType::kSingleLabel ? classes.data() : soft.data();
    std::vector<float> grad(batch * labels), scratch(batch * labels);
    LossAndGradient(problem, logits.data(), targets, batch, labels, grad.data());
    auto loss = [&] {
      return LossAndGradient(problem, logits.data(), targets, batch, labels, scratch.data());
    };
    CheckGradient(&logits, grad, loss, "loss", 1e-3f);
  }
}

struct SmallClassifier {
  ParamLayout layout;
  std::vector<float> params;
  TrainBatch batch;

  explicit SmallClassifier(model::FamilyId family = model::FamilyId::kBert) {
    model::BertConfig config;
    config.family_id = family;
    if (family == model::FamilyId::kRoberta) config.pad_token_id = 1;
    config.vocab_size = 20, config.hidden_size = 8, config.num_hidden_layers = 2;
    config.num_attention_heads = 2, config.intermediate_size = 12;
    config.max_position_embeddings = 16;
    layout = ParamLayout::For(config, 3);
    InitParams(layout, 0, 5, &params);
    const auto noise = Random(layout.total, 77, 0.1f);
    for (size_t i = 0; i < params.size(); ++i) params[i] += noise[i];
    batch.ids = {2, 5, 7, 3, 2, 9, 3, 2, 11, 12, 13, 3};
    batch.type_ids = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    batch.offsets = {0, 4, 7, 12};
    batch.targets = {1, 0, 2};
  }
};

void CheckClassifierGradient(bool last_layer_cls_only,
                             model::FamilyId family = model::FamilyId::kBert) {
  SmallClassifier c(family);
  NetOptions options;
  options.layer_norm_eps = 1e-5f;
  options.last_layer_cls_only = last_layer_cls_only;
  ClassifierNet net(c.layout, options);
  std::vector<float> grads(c.layout.total);
  net.Forward(c.params.data(), c.batch, true, 1234);
  net.Backward(c.params.data(), c.batch, grads.data());
  std::vector<float> scratch(c.layout.total);
  auto loss = [&] {
    net.Forward(c.params.data(), c.batch, true, 1234);
    return net.Backward(c.params.data(), c.batch, scratch.data());
  };
  CheckGradient(&c.params, grads, loss, "classifier", 1e-2f, 400);
}

TEST(TrainOps, ClassifierGradientWithDropout) { CheckClassifierGradient(true); }
TEST(TrainOps, ClassifierGradientWithDropoutAllRows) { CheckClassifierGradient(false); }
TEST(TrainOps, RobertaHeadGradientWithDropout) {
  CheckClassifierGradient(true, model::FamilyId::kRoberta);
}

// RoBERTa's head drops out its input too: with one sequence, the pooler
// weight's gradient is exactly zero in the columns of the dropped features;
// BERT's head sees its whole input.
TEST(TrainOps, RobertaHeadDropsOutItsInput) {
  for (const model::FamilyId family : {model::FamilyId::kBert, model::FamilyId::kRoberta}) {
    SmallClassifier c(family);
    c.batch.ids = {2, 5, 7, 3};
    c.batch.type_ids = {0, 0, 0, 0};
    c.batch.offsets = {0, 4};
    c.batch.targets = {1};
    NetOptions options;
    options.layer_norm_eps = 1e-5f;
    options.hidden_dropout = 0.5f;
    ClassifierNet net(c.layout, options);
    std::vector<float> grads(c.layout.total);
    net.Forward(c.params.data(), c.batch, true, 99);
    net.Backward(c.params.data(), c.batch, grads.data());
    const int64_t h = c.layout.hidden;
    int zero_columns = 0;
    for (int64_t k = 0; k < h; ++k) {
      bool zero = true;
      for (int64_t j = 0; j < h; ++j) zero &= grads[c.layout.pooler_weight + j * h + k] == 0.0f;
      zero_columns += zero;
    }
    if (family == model::FamilyId::kRoberta) {
      EXPECT_GT(zero_columns, 0) << "no input feature of the head was dropped";
      EXPECT_LT(zero_columns, h) << "every input feature was dropped";
    } else {
      EXPECT_EQ(zero_columns, 0);
    }
  }
}

TEST(TrainOps, ClsOnlyLastLayerMatchesAllRows) {
  // Without dropout the pruned last layer gives the same logits and gradients.
  SmallClassifier c;
  NetOptions options;
  options.layer_norm_eps = 1e-5f;
  options.hidden_dropout = options.attention_dropout = 0.0f;
  ClassifierNet pruned(c.layout, options);
  options.last_layer_cls_only = false;
  ClassifierNet full(c.layout, options);
  std::vector<float> gp(c.layout.total), gf(c.layout.total);
  pruned.Forward(c.params.data(), c.batch, true, 1);
  full.Forward(c.params.data(), c.batch, true, 1);
  for (size_t i = 0; i < pruned.logits().size(); ++i)
    EXPECT_NEAR(pruned.logits()[i], full.logits()[i], 1e-5f);
  EXPECT_NEAR(pruned.Backward(c.params.data(), c.batch, gp.data()),
              full.Backward(c.params.data(), c.batch, gf.data()), 1e-6);
  float scale = 0;
  for (float g : gf) scale = std::max(scale, std::abs(g));
  for (size_t i = 0; i < gp.size(); ++i) ASSERT_NEAR(gp[i], gf[i], 1e-5f * scale) << i;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(aa * bb);
}

// A tiny ModernBERT classifier: three layers (the middle one a sliding
// window of radius 1, narrower than every sequence), with or without biases.
struct SmallModernBert {
  ParamLayout layout;
  std::vector<float> params;
  TrainBatch batch;

  SmallModernBert(bool biases, bool mean_pooling, LoraOptions lora = {}) {
    model::BertConfig config;
    config.family_id = model::FamilyId::kModernBert;
    config.model_type = "modernbert";
    config.vocab_size = 20, config.hidden_size = 8, config.num_hidden_layers = 3;
    config.num_attention_heads = 2, config.intermediate_size = 6;
    config.layer_norm_eps = 1e-5f;
    model::ModernBertSettings& m = config.modernbert;
    m.norm_bias = m.attention_bias = m.mlp_bias = m.classifier_bias = biases;
    m.local_attention = 2;
    m.sliding_layers = {false, true, false};
    m.classifier_mean_pooling = mean_pooling;
    m.classifier_activation =
        biases ? model::ClassifierActivation::kTanh : model::ClassifierActivation::kGelu;
    layout = ParamLayout::For(config, 3, lora);
    InitParams(layout, 0, 5, &params);
    const auto noise = Random(layout.total, 77, 0.3f);
    for (size_t i = 0; i < params.size(); ++i) params[i] += noise[i];
    batch.ids = {2, 5, 7, 3, 2, 9, 3, 2, 11, 12, 13, 3};
    batch.type_ids.assign(batch.ids.size(), 0);
    batch.offsets = {0, 4, 7, 12};
    batch.targets = {1, 0, 2};
  }
};

// Every gradient of the ModernBERT net against finite differences, with
// dropout on at every site (the masks are fixed by the seed).
TEST(TrainOps, ModernBertGradientWithDropout) {
  for (const bool biases : {false, true}) {
    SmallModernBert c(biases, /*mean_pooling=*/biases);
    NetOptions options;
    options.hidden_dropout = 0.1f;
    options.attention_dropout = 0.1f;
    ModernBertNet net(c.layout, options);
    std::vector<float> grads(c.layout.total), scratch(c.layout.total);
    net.Forward(c.params.data(), c.batch, true, 1234);
    net.Backward(c.params.data(), c.batch, grads.data());
    auto loss = [&] {
      net.Forward(c.params.data(), c.batch, true, 1234);
      return net.Backward(c.params.data(), c.batch, scratch.data());
    };
    CheckGradient(&c.params, grads, loss, biases ? "modernbert with biases" : "modernbert", 1e-2f,
                  400);
  }
}

// With a LoRA layout only the Wqkv adapters and the head get gradients, and
// theirs match finite differences; the frozen encoder gets none.
TEST(TrainOps, ModernBertLoraGradient) {
  SmallModernBert c(false, false, LoraOptions{2, 4.0f});
  for (const ParamTensor& t : c.layout.tensors) {
    if (!t.name.ends_with(".lora_B.weight")) continue;
    const auto noise = Random(t.size, 9, 0.2f);  // B starts at zero: give it values
    std::copy(noise.begin(), noise.end(), c.params.begin() + t.offset);
  }
  ModernBertNet net(c.layout, NetOptions{});
  std::vector<float> grads(c.layout.total), scratch(c.layout.total);
  net.Forward(c.params.data(), c.batch, false, 0);
  net.Backward(c.params.data(), c.batch, grads.data());
  float scale = 1e-6f;
  for (float g : grads) scale = std::max(scale, std::abs(g));
  size_t checked = 0;
  for (const ParamTensor& t : c.layout.tensors) {
    for (size_t i = t.offset; i < t.offset + t.size; i += 3) {
      if (!t.trainable) {
        EXPECT_EQ(grads[i], 0.0f) << t.name;
        continue;
      }
      const float saved = c.params[i];
      c.params[i] = saved + 1e-2f;
      net.Forward(c.params.data(), c.batch, false, 0);
      const double up = net.Backward(c.params.data(), c.batch, scratch.data());
      c.params[i] = saved - 1e-2f;
      net.Forward(c.params.data(), c.batch, false, 0);
      const double down = net.Backward(c.params.data(), c.batch, scratch.data());
      c.params[i] = saved;
      EXPECT_NEAR(grads[i], (up - down) / 2e-2, 2e-2 * scale) << t.name << " element " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 50u);
}

// A training step with bf16 products against the same step in F32 on a tiny
// model (hidden 64, so that rounding the operands matters): the same
// gradient direction, overall and per weight matrix, and nearly the same
// loss; and not the identical gradient (the products did run in bf16).
TEST(TrainOps, Bf16StepGradientsFollowF32) {
  if (!kernels::Bf16GemmSupported().ok()) GTEST_SKIP() << kernels::Bf16GemmSupported().message();
  model::BertConfig config;
  config.vocab_size = 50, config.hidden_size = 64, config.num_hidden_layers = 2;
  config.num_attention_heads = 4, config.intermediate_size = 128;
  config.max_position_embeddings = 32;
  const ParamLayout layout = ParamLayout::For(config, 3);
  std::vector<float> params;
  InitParams(layout, 0, 11, &params);
  TrainBatch batch;
  const int64_t lengths[] = {9, 17, 5, 12};
  for (int64_t s = 0; s < 4; ++s) {
    for (int64_t t = 0; t < lengths[s]; ++t) {
      batch.ids.push_back(static_cast<int32_t>((s * 7 + t * 3) % 48 + 1));
      batch.type_ids.push_back(0);
    }
    batch.offsets.push_back(static_cast<int64_t>(batch.ids.size()));
    batch.targets.push_back(static_cast<float>(s % 3));
  }
  NetOptions options;
  ClassifierNet f32(layout, options);
  options.dtype = kernels::GemmDtype::kBf16;
  ClassifierNet bf16(layout, options);
  std::vector<float> g32(layout.total), g16(layout.total);
  f32.SetWeights(params.data());
  f32.Forward(params.data(), batch, true, 5);
  const double loss32 = f32.Backward(params.data(), batch, g32.data());
  bf16.SetWeights(params.data());
  bf16.Forward(params.data(), batch, true, 5);
  const double loss16 = bf16.Backward(params.data(), batch, g16.data());
  EXPECT_NEAR(loss16, loss32, 0.01 * loss32);
  EXPECT_GT(Cosine(g16, g32), 0.99);
  EXPECT_NE(g16, g32);
  const LayerOffsets& o = layout.layer[0];
  const size_t h = 64;
  for (const auto& [offset, size] :
       std::vector<std::pair<size_t, size_t>>{{o.qkv_weight, 3 * h * h},
                                              {o.intermediate_weight, 128 * h},
                                              {layout.pooler_weight, h * h},
                                              {layout.word_embeddings, 50 * h}}) {
    const std::vector<float> a(g16.begin() + offset, g16.begin() + offset + size);
    const std::vector<float> b(g32.begin() + offset, g32.begin() + offset + size);
    EXPECT_GT(Cosine(a, b), 0.99) << "parameter offset " << offset;
  }
}

TEST(TrainOps, ScheduleAndClipping) {
  EXPECT_FLOAT_EQ(LinearScheduleLr(1.0f, 0, 10, 110), 0.0f);
  EXPECT_FLOAT_EQ(LinearScheduleLr(1.0f, 5, 10, 110), 0.5f);
  EXPECT_FLOAT_EQ(LinearScheduleLr(1.0f, 10, 10, 110), 1.0f);
  EXPECT_FLOAT_EQ(LinearScheduleLr(1.0f, 60, 10, 110), 0.5f);
  EXPECT_FLOAT_EQ(LinearScheduleLr(1.0f, 110, 10, 110), 0.0f);
  std::vector<float> g = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(ClipGradNorm(g.data(), 2, 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6f, 1e-6);
  EXPECT_NEAR(g[1], 0.8f, 1e-6);
}

}  // namespace
}  // namespace mg::train
