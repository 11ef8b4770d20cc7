// The encoder with bf16 and int8 linear layers against the same weights in
// F32, on a tiny random model: every token's last hidden state keeps a cosine
// of at least 0.999 (bf16) / 0.99 (int8) to the F32 one, and the low-precision
// pass is not F32 in disguise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "model/bert_encoder.h"

namespace mg::model {
namespace {

BertConfig TinyConfig() {
  BertConfig config;
  config.vocab_size = 50;
  config.hidden_size = 32;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 4;
  config.intermediate_size = 64;
  config.max_position_embeddings = 64;
  config.type_vocab_size = 2;
  return config;
}

BertWeights RandomWeights(const BertConfig& c) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
  };
  const size_t h = c.hidden_size, inter = c.intermediate_size;
  BertWeights w;
  w.word_embeddings = fill(c.vocab_size * h);
  w.position_embeddings = fill(c.max_position_embeddings * h);
  w.token_type_embeddings = fill(c.type_vocab_size * h);
  w.embedding_norm_gamma = fill(h);
  w.embedding_norm_beta = fill(h);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    BertLayerWeights l;
    l.qkv_weight = fill(3 * h * h);
    l.qkv_bias = fill(3 * h);
    l.attention_output_weight = fill(h * h);
    l.attention_output_bias = fill(h);
    l.attention_norm_gamma = fill(h);
    l.attention_norm_beta = fill(h);
    l.intermediate_weight = fill(inter * h);
    l.intermediate_bias = fill(inter);
    l.output_weight = fill(h * inter);
    l.output_bias = fill(h);
    l.output_norm_gamma = fill(h);
    l.output_norm_beta = fill(h);
    w.layers.push_back(std::move(l));
  }
  return w;
}

PackedBatch MakeBatch(const std::vector<std::vector<int32_t>>& sequences) {
  PackedBatch batch;
  for (const auto& ids : sequences) {
    for (int32_t id : ids) {
      batch.ids.push_back(id);
      batch.type_ids.push_back(id % 2);
    }
    batch.offsets.push_back(batch.tokens());
  }
  return batch;
}

struct Closeness {
  double min_cosine = 1.0;
  double max_difference = 0.0;
};

Closeness Compare(const Tensor& got, const Tensor& want, int64_t tokens, int64_t hidden) {
  Closeness c;
  for (int64_t t = 0; t < tokens; ++t) {
    double dot = 0, got_norm = 0, want_norm = 0;
    for (int64_t d = 0; d < hidden; ++d) {
      const double x = got.data<float>()[t * hidden + d];
      const double y = want.data<float>()[t * hidden + d];
      dot += x * y;
      got_norm += x * x;
      want_norm += y * y;
      c.max_difference = std::max(c.max_difference, std::fabs(x - y));
    }
    c.min_cosine = std::min(c.min_cosine, dot / std::sqrt(got_norm * want_norm));
  }
  return c;
}

class EncoderPrecisionTest : public testing::TestWithParam<std::pair<kernels::Precision, double>> {
};

TEST_P(EncoderPrecisionTest, HiddenStatesStayCloseToF32) {
  const auto [precision, threshold] = GetParam();
  const BertConfig config = TinyConfig();
  const PackedBatch batch =
      MakeBatch({{1, 5, 9, 2, 44, 17}, {3}, {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 30, 31}});
  const BertEncoder f32(config, RandomWeights(config));
  const BertEncoder low(config, RandomWeights(config), precision);
  if (low.precision() != precision) GTEST_SKIP() << "no kernels for it on this CPU";
  EncoderWorkspace f32_ws, low_ws;
  const Tensor& want = f32.Forward(batch, &f32_ws);
  const Tensor& got = low.Forward(batch, &low_ws);
  const Closeness c = Compare(got, want, batch.tokens(), config.hidden_size);
  EXPECT_GE(c.min_cosine, threshold);
  EXPECT_GT(c.max_difference, 1e-4) << "ran as F32";
  EXPECT_LT(low.bytes(), f32.bytes());
}

INSTANTIATE_TEST_SUITE_P(Precisions, EncoderPrecisionTest,
                         testing::Values(std::pair{kernels::Precision::kBf16, 0.999},
                                         std::pair{kernels::Precision::kInt8, 0.99}));

}  // namespace
}  // namespace mg::model
