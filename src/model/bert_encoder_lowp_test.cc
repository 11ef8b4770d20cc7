// The encoder with bf16 and int8 linear layers against the same weights in
// F32, on a tiny random model: every token's last hidden state keeps a cosine
// of at least 0.999 (bf16) / 0.99 (int8) to the F32 one, and the low-precision
// pass is not F32 in disguise. The low-precision encoder holds its word
// embeddings in bf16, as Model::Load gives it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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
  BertWeights low_weights = RandomWeights(config);
  low_weights.StoreWordEmbeddingsAsBf16();
  const BertEncoder low(config, std::move(low_weights), precision);
  if (low.precision() != precision) GTEST_SKIP() << "no kernels for it on this CPU";
  EncoderWorkspace f32_ws, low_ws;
  const Tensor& want = f32.Forward(batch, &f32_ws);
  const Tensor& got = low.Forward(batch, &low_ws);
  const Closeness c = Compare(got, want, batch.tokens(), config.hidden_size);
  EXPECT_GE(c.min_cosine, threshold);
  EXPECT_GT(c.max_difference, 1e-4) << "ran as F32";
  EXPECT_LT(low.bytes(), f32.bytes());
}

// Round to nearest even on the bit pattern, written out here apart from the
// kernels (finite inputs only).
float RoundedToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  bits += 0x7fffu + ((bits >> 16) & 1u);
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

TEST(WordEmbeddingsTest, Bf16RowsAreTheF32RowsRoundedToNearestEven) {
  const BertConfig config = TinyConfig();
  const BertWeights f32 = RandomWeights(config);
  BertWeights bf16 = RandomWeights(config);
  bf16.StoreWordEmbeddingsAsBf16();
  EXPECT_TRUE(bf16.word_embeddings.empty());
  EXPECT_EQ(f32.bytes() - bf16.bytes(),
            static_cast<size_t>(config.vocab_size * config.hidden_size) * 2);
  const int64_t h = config.hidden_size;
  std::vector<float> got(static_cast<size_t>(h)), exact(static_cast<size_t>(h));
  size_t changed = 0;
  for (int32_t id = 0; id < config.vocab_size; ++id) {
    f32.CopyWordRow(id, h, exact.data());
    bf16.CopyWordRow(id, h, got.data());
    for (int64_t c = 0; c < h; ++c) {
      EXPECT_EQ(exact[c], f32.word_embeddings[id * h + c]);
      ASSERT_EQ(got[c], RoundedToBf16(exact[c])) << "row " << id << " column " << c;
      EXPECT_LE(std::fabs(got[c] - exact[c]), std::ldexp(std::fabs(exact[c]), -8));
      changed += got[c] != exact[c];
    }
  }
  EXPECT_GT(changed, 0u) << "the rows were not rounded";
}

INSTANTIATE_TEST_SUITE_P(Precisions, EncoderPrecisionTest,
                         testing::Values(std::pair{kernels::Precision::kBf16, 0.999},
                                         std::pair{kernels::Precision::kInt8, 0.99}));

}  // namespace
}  // namespace mg::model
