#include "model/modernbert_encoder.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "model/parallel_rows.h"

namespace mg::model {
namespace {

constexpr int64_t kFeedForwardRows = 512;

const float* OrNull(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// Rotates the halves of one head's row: x1' = x1 cos - x2 sin, x2' = x2 cos +
// x1 sin, with `table` holding (cos, sin) pairs of the row's position.
void Rotate(float* x, const float* table, int64_t half) {
  for (int64_t i = 0; i < half; ++i) {
    const float cos = table[2 * i], sin = table[2 * i + 1];
    const float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * cos - x2 * sin;
    x[i + half] = x2 * cos + x1 * sin;
  }
}

// x[r] += y[r] over rows [begin, begin + count) of width `cols`.
void AddRows(float* x, const float* y, int64_t begin, int64_t count, int64_t cols) {
  for (int64_t i = begin * cols; i < (begin + count) * cols; ++i) x[i] += y[i];
}

}  // namespace

ModernBertEncoder::ModernBertEncoder(BertConfig config, BertWeights weights,
                                     kernels::Precision precision)
    : config_(std::move(config)), weights_(std::move(weights)) {
  using kernels::Activation;
  const int64_t h = config_.hidden_size;
  const int64_t inter = config_.intermediate_size;
  layers_.reserve(weights_.layers.size());
  for (BertLayerWeights& l : weights_.layers) {
    layers_.push_back(PackedLayer{
        kernels::PackedLinear(l.qkv_weight.data(), OrNull(l.qkv_bias), h, 3 * h, Activation::kNone,
                              precision),
        kernels::PackedLinear(l.attention_output_weight.data(), OrNull(l.attention_output_bias), h,
                              h, Activation::kNone, precision),
        kernels::PackedLinear(l.intermediate_weight.data(), OrNull(l.intermediate_bias), h,
                              2 * inter, Activation::kNone, precision),
        kernels::PackedLinear(l.output_weight.data(), OrNull(l.output_bias), inter, h,
                              Activation::kNone, precision)});
    for (std::vector<float>* packed :
         {&l.qkv_weight, &l.attention_output_weight, &l.intermediate_weight, &l.output_weight}) {
      std::vector<float>().swap(*packed);
    }
  }
}

kernels::Precision ModernBertEncoder::precision() const {
  return layers_.empty() ? kernels::Precision::kF32 : layers_.front().qkv.precision();
}

size_t ModernBertEncoder::bytes() const {
  size_t total = weights_.bytes();
  for (const PackedLayer& l : layers_)
    total += l.qkv.bytes() + l.attention_output.bytes() + l.input.bytes() + l.output.bytes();
  return total;
}

void ModernBertEncoder::RotaryTables(int64_t max_len, float* out) const {
  const int64_t head_dim = config_.head_dim();
  const int64_t half = head_dim / 2;
  const double thetas[2] = {config_.modernbert.global_rope_theta,
                            config_.modernbert.local_rope_theta};
  for (int table = 0; table < 2; ++table) {
    for (int64_t i = 0; i < half; ++i) {
      const double inv_freq =
          1.0 / std::pow(thetas[table], static_cast<double>(2 * i) / static_cast<double>(head_dim));
      for (int64_t position = 0; position < max_len; ++position) {
        const double angle = static_cast<double>(position) * inv_freq;
        float* entry = out + ((table * max_len + position) * half + i) * 2;
        entry[0] = static_cast<float>(std::cos(angle));
        entry[1] = static_cast<float>(std::sin(angle));
      }
    }
  }
}

void ModernBertEncoder::Attention(const PackedBatch& batch, bool sliding, const float* rotary,
                                  int64_t max_len, float* qkv, float* context,
                                  EncoderWorkspace* ws) const {
  const int64_t h = config_.hidden_size;
  const int64_t heads = config_.num_attention_heads;
  const int64_t head_dim = config_.head_dim();
  const int64_t half = head_dim / 2;
  const int64_t radius = config_.modernbert.local_attention / 2;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const float* table = rotary + (sliding ? max_len * half * 2 : 0);
  const int threads = omp_get_max_threads();
  const int64_t per_thread = kernels::AttentionScratchFloats(max_len, head_dim);
  ws->attention_scratch.Resize({static_cast<int64_t>(threads) * per_thread});
  float* scratch = ws->attention_scratch.data<float>();
  const auto& k = kernels::Kernels();
  const int64_t tasks = batch.sequences() * heads;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t s = task / heads;
    const int64_t head = task % heads;
    const int64_t first = batch.offsets[s];
    const int64_t length = batch.length(s);
    float* q = qkv + first * 3 * h + head * head_dim;
    // Each task owns its head's query and key columns, so the rotation is
    // done in place here.
    for (int64_t t = 0; t < length; ++t) {
      const float* position_table = table + t * half * 2;
      Rotate(q + t * 3 * h, position_table, half);
      Rotate(q + h + t * 3 * h, position_table, half);
    }
    float* out = context + first * h + head * head_dim;
    float* own_scratch = scratch + omp_get_thread_num() * per_thread;
    // A global layer is a window wider than the sequence.
    k.attention_head_window(q, q + h, q + 2 * h, 3 * h, out, h, length, head_dim, scale,
                            sliding ? radius : length, own_scratch);
  }
}

const Tensor& ModernBertEncoder::Forward(const PackedBatch& batch, EncoderWorkspace* ws) const {
  const int64_t tokens = batch.tokens();
  const int64_t h = config_.hidden_size;
  const int64_t inter = config_.intermediate_size;
  const float eps = config_.layer_norm_eps;
  int64_t max_len = 0;
  for (int64_t s = 0; s < batch.sequences(); ++s) max_len = std::max(max_len, batch.length(s));
  ws->hidden.Resize({tokens, h});
  ws->qkv.Resize({tokens, 3 * h});
  ws->context.Resize({tokens, h});
  ws->projected.Resize({tokens, h});
  // The feed-forward block runs in row chunks: Wi's [rows, 2I] output, then
  // the gated [rows, I] activations.
  const int64_t ffn_rows = std::min<int64_t>(tokens, kFeedForwardRows);
  ws->intermediate.Resize({ffn_rows, 3 * inter});
  ws->rotary.Resize({2 * max_len * config_.head_dim()});
  float* hidden = ws->hidden.data<float>();
  float* qkv = ws->qkv.data<float>();
  float* context = ws->context.data<float>();
  float* normed = ws->projected.data<float>();
  float* wide = ws->intermediate.data<float>();
  float* gated = wide + ffn_rows * 2 * inter;
  const float* rotary = ws->rotary.data<float>();
  RotaryTables(max_len, ws->rotary.data<float>());
  const auto& k = kernels::Kernels();
  const BertWeights& w = weights_;

  for (int64_t t = 0; t < tokens; ++t) w.CopyWordRow(batch.ids[t], h, hidden + t * h);
  ParallelRows(tokens, [&](int64_t begin, int64_t count) {
    k.bias_residual_layernorm(hidden + begin * h, nullptr, nullptr, w.embedding_norm_gamma.data(),
                              w.embedding_norm_beta.data(), count, h, eps);
  });
  // `normed` = LayerNorm(hidden) with the given parameters.
  auto normalize = [&](const std::vector<float>& gamma, const std::vector<float>& beta) {
    ParallelRows(tokens, [&](int64_t begin, int64_t count) {
      std::copy_n(hidden + begin * h, count * h, normed + begin * h);
      k.bias_residual_layernorm(normed + begin * h, nullptr, nullptr, gamma.data(), beta.data(),
                                count, h, eps);
    });
  };
  for (size_t index = 0; index < layers_.size(); ++index) {
    const PackedLayer& packed = layers_[index];
    const BertLayerWeights& layer = w.layers[index];
    const bool sliding = config_.modernbert.sliding_layers[index];
    if (index == 0) {
      packed.qkv.Run(hidden, tokens, qkv);
    } else {
      normalize(layer.attention_norm_gamma, layer.attention_norm_beta);
      packed.qkv.Run(normed, tokens, qkv);
    }
    Attention(batch, sliding, rotary, max_len, qkv, context, ws);
    packed.attention_output.Run(context, tokens, normed);
    ParallelRows(tokens,
                 [&](int64_t begin, int64_t count) { AddRows(hidden, normed, begin, count, h); });
    normalize(layer.output_norm_gamma, layer.output_norm_beta);
    for (int64_t row = 0; row < tokens; row += ffn_rows) {
      const int64_t rows = std::min(ffn_rows, tokens - row);
      packed.input.Run(normed + row * h, rows, wide);
      ParallelRows(rows, [&](int64_t begin, int64_t count) {
        for (int64_t r = begin; r < begin + count; ++r) {
          const float* input = wide + r * 2 * inter;
          float* out = gated + r * inter;
          k.gelu(input, out, inter);
          for (int64_t c = 0; c < inter; ++c) out[c] *= input[inter + c];
        }
      });
      // Wi has read these rows of `normed`; Wo's output takes their place.
      packed.output.Run(gated, rows, normed + row * h);
      ParallelRows(rows, [&](int64_t begin, int64_t count) {
        AddRows(hidden + row * h, normed + row * h, begin, count, h);
      });
    }
  }
  ParallelRows(tokens, [&](int64_t begin, int64_t count) {
    k.bias_residual_layernorm(hidden + begin * h, nullptr, nullptr, w.final_norm_gamma.data(),
                              w.final_norm_beta.data(), count, h, eps);
  });
  return ws->hidden;
}

void ModernBertEncoder::Classify(const PackedBatch& batch, const Tensor& hidden,
                                 EncoderWorkspace* ws, std::vector<float>* logits) const {
  const int64_t h = config_.hidden_size;
  const int64_t sequences = batch.sequences();
  const int64_t labels = static_cast<int64_t>(config_.labels.size());
  const ModernBertSettings& settings = config_.modernbert;
  const BertWeights& w = weights_;
  ws->context.Resize({sequences, h});
  ws->projected.Resize({sequences, h});
  float* pooled = ws->context.data<float>();
  float* head = ws->projected.data<float>();
  const float* states = hidden.data<float>();
  for (int64_t s = 0; s < sequences; ++s) {
    float* row = pooled + s * h;
    const int64_t first = batch.offsets[s];
    const int64_t length = batch.length(s);
    std::fill(row, row + h, 0.0f);
    if (length == 0) continue;
    if (!settings.classifier_mean_pooling) {
      std::copy_n(states + first * h, h, row);
      continue;
    }
    for (int64_t t = first; t < first + length; ++t)
      for (int64_t c = 0; c < h; ++c) row[c] += states[t * h + c];
    for (int64_t c = 0; c < h; ++c) row[c] /= static_cast<float>(length);
  }
  const auto& k = kernels::Kernels();
  kernels::Linear(pooled, sequences, h, w.pooler_weight.data(), h, head);
  switch (settings.classifier_activation) {
    case ClassifierActivation::kGelu:
      k.bias_gelu(head, w.pooler_bias.data(), sequences, h);
      break;
    case ClassifierActivation::kTanh:
      k.bias_tanh(head, w.pooler_bias.data(), sequences, h);
      break;
    case ClassifierActivation::kRelu:
      k.add_bias(head, w.pooler_bias.data(), sequences, h);
      for (int64_t i = 0; i < sequences * h; ++i) head[i] = std::max(head[i], 0.0f);
      break;
  }
  k.bias_residual_layernorm(head, nullptr, nullptr, w.head_norm_gamma.data(),
                            w.head_norm_beta.data(), sequences, h, config_.layer_norm_eps);
  logits->resize(static_cast<size_t>(sequences * labels));
  kernels::Linear(head, sequences, h, w.classifier_weight.data(), labels, logits->data());
  k.add_bias(logits->data(), w.classifier_bias.data(), sequences, labels);
}

}  // namespace mg::model
