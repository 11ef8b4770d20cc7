// BertEncoder properties that need no reference implementation: a packed
// batch gives each sequence exactly what it gets alone (no cross-talk, no
// padding effects), and a forward pass allocates nothing once the workspace
// has seen the batch shape.
#include "model/bert_encoder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counts every C++ allocation in the process (oneDNN's included).
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

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
  std::mt19937 rng(5);
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

TEST(BertEncoderTest, PackedSequencesDoNotInteract) {
  const BertConfig config = TinyConfig();
  const BertEncoder encoder(config, RandomWeights(config));
  const std::vector<std::vector<int32_t>> sequences = {
      {1, 5, 9, 2}, {3}, {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, {4, 8}};
  EncoderWorkspace together_ws;
  const Tensor& together = encoder.Forward(MakeBatch(sequences), &together_ws);
  int64_t offset = 0;
  for (const auto& ids : sequences) {
    EncoderWorkspace alone_ws;
    const Tensor& alone = encoder.Forward(MakeBatch({ids}), &alone_ws);
    for (size_t i = 0; i < ids.size() * config.hidden_size; ++i) {
      ASSERT_NEAR(alone.data<float>()[i], together.data<float>()[offset * config.hidden_size + i],
                  2e-5f);
    }
    offset += static_cast<int64_t>(ids.size());
  }
}

// oneDNN builds a small argument map inside every primitive execution; that
// is the library's. Everything else in a warmed-up forward pass must not
// allocate: the pass may allocate exactly what its GEMM calls do.
TEST(BertEncoderTest, NoAllocationAfterWarmUpBeyondOneDnnExecute) {
  const BertConfig config = TinyConfig();
  const PackedBatch batch = MakeBatch({{1, 2, 3, 4, 5, 6}, {7, 8, 9}, {10, 11, 12, 13}});

  // What one warmed-up GEMM call costs inside oneDNN, without and with the
  // fused GELU post-op.
  std::vector<float> weight(64 * 32, 0.1f), bias(64, 0.0f), x(batch.tokens() * 32, 1.0f),
      y(batch.tokens() * 64);
  auto cost = [&](kernels::Activation activation) {
    kernels::PackedLinear linear(weight.data(), bias.data(), 32, 64, activation);
    linear.Run(x.data(), batch.tokens(), y.data());
    const long start = g_allocations.load();
    linear.Run(x.data(), batch.tokens(), y.data());
    return g_allocations.load() - start;
  };
  const long plain = cost(kernels::Activation::kNone);
  const long with_gelu = cost(kernels::Activation::kGeluErf);

  const BertEncoder encoder(config, RandomWeights(config));
  EncoderWorkspace ws;
  encoder.Forward(batch, &ws);  // warm-up: workspace, primitives, per-thread state
  encoder.Forward(batch, &ws);
  const long before = g_allocations.load();
  encoder.Forward(batch, &ws);
  // Per layer: QKV, attention output and FFN output plain; FFN input with GELU.
  EXPECT_EQ(g_allocations.load() - before, config.num_hidden_layers * (3 * plain + with_gelu))
      << plain << " allocations per plain oneDNN execution, " << with_gelu << " with GELU";
}

}  // namespace
}  // namespace mg::model
