#include "model/bert_encoder.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "model/parallel_rows.h"

namespace mg::model {
namespace {

constexpr int64_t kFeedForwardRows = 512;

}  // namespace

BertEncoder::PackedLayer BertEncoder::PackLayer(const BertConfig& config, BertLayerWeights* l,
                                                kernels::Precision precision) {
  using kernels::Activation;
  const int64_t h = config.hidden_size;
  const int64_t inter = config.intermediate_size;
  PackedLayer packed{
      kernels::PackedLinear(l->qkv_weight.data(), l->qkv_bias.data(), h, 3 * h, Activation::kNone,
                            precision),
      kernels::PackedLinear(l->attention_output_weight.data(), l->attention_output_bias.data(), h,
                            h, Activation::kNone, precision),
      kernels::PackedLinear(l->intermediate_weight.data(), l->intermediate_bias.data(), h, inter,
                            Activation::kGeluErf, precision),
      kernels::PackedLinear(l->output_weight.data(), l->output_bias.data(), inter, h,
                            Activation::kNone, precision)};
  for (std::vector<float>* plain :
       {&l->qkv_weight, &l->attention_output_weight, &l->intermediate_weight, &l->output_weight}) {
    std::vector<float>().swap(*plain);
  }
  return packed;
}

BertEncoder::BertEncoder(BertConfig config, BertWeights weights, kernels::Precision precision)
    : config_(std::move(config)), weights_(std::move(weights)) {
  layers_.reserve(weights_.layers.size());
  for (BertLayerWeights& l : weights_.layers) layers_.push_back(PackLayer(config_, &l, precision));
}

BertEncoder::BertEncoder(BertConfig config, BertWeights weights, std::vector<PackedLayer> packed)
    : config_(std::move(config)), weights_(std::move(weights)), layers_(std::move(packed)) {
  MG_CHECK(layers_.size() == weights_.layers.size());
}

kernels::Precision BertEncoder::precision() const {
  return layers_.empty() ? kernels::Precision::kF32 : layers_.front().qkv.precision();
}

size_t BertEncoder::bytes() const {
  size_t total = weights_.bytes();
  for (const PackedLayer& l : layers_) {
    total += l.qkv.bytes() + l.attention_output.bytes() + l.intermediate.bytes() + l.output.bytes();
  }
  return total;
}

void BertEncoder::Embed(const PackedBatch& batch, float* out) const {
  const int64_t h = config_.hidden_size;
  const BertWeights& w = weights_;
  const bool types = !w.token_type_embeddings.empty();
  // Positions count from 0, or (RoBERTa) from pad_token_id + 1 over the
  // non-padding tokens, padding tokens sitting at pad_token_id.
  const bool after_padding = config_.family().positions_after_padding;
  const int64_t pad = config_.pad_token_id;
  for (int64_t s = 0; s < batch.sequences(); ++s) {
    int64_t counted = 0;
    for (int64_t t = batch.offsets[s]; t < batch.offsets[s + 1]; ++t) {
      const int32_t id = batch.ids[t];
      int64_t position = t - batch.offsets[s];
      if (after_padding) position = id == pad ? pad : pad + ++counted;
      const float* pos = w.position_embeddings.data() + position * h;
      float* row = out + t * h;
      w.CopyWordRow(id, h, row);
      for (int64_t c = 0; c < h; ++c) row[c] += pos[c];
      if (types) {
        const float* type =
            w.token_type_embeddings.data() + static_cast<int64_t>(batch.type_ids[t]) * h;
        for (int64_t c = 0; c < h; ++c) row[c] += type[c];
      }
    }
  }
  const auto& k = kernels::Kernels();
  ParallelRows(batch.tokens(), [&](int64_t begin, int64_t count) {
    k.bias_residual_layernorm(out + begin * h, nullptr, nullptr, w.embedding_norm_gamma.data(),
                              w.embedding_norm_beta.data(), count, h, config_.layer_norm_eps);
  });
}

void BertEncoder::Attention(const PackedBatch& batch, const float* qkv, float* context,
                            EncoderWorkspace* ws) const {
  const int64_t h = config_.hidden_size;
  const int64_t heads = config_.num_attention_heads;
  const int64_t head_dim = config_.head_dim();
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  int64_t max_len = 0;
  for (int64_t s = 0; s < batch.sequences(); ++s) max_len = std::max(max_len, batch.length(s));
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
    const float* q = qkv + first * 3 * h + head * head_dim;
    k.attention_head(q, q + h, q + 2 * h, 3 * h, context + first * h + head * head_dim, h,
                     batch.length(s), head_dim, scale, scratch + omp_get_thread_num() * per_thread);
  }
}

const Tensor& BertEncoder::Forward(const PackedBatch& batch, EncoderWorkspace* ws) const {
  const int64_t tokens = batch.tokens();
  const int64_t h = config_.hidden_size;
  const int64_t inter = config_.intermediate_size;
  ws->hidden.Resize({tokens, h});
  ws->qkv.Resize({tokens, 3 * h});
  ws->context.Resize({tokens, h});
  ws->projected.Resize({tokens, h});
  // The feed-forward block runs in row chunks: its [rows, intermediate]
  // activations are the largest buffer, and GEMMs of this many rows already
  // run at full speed.
  const int64_t ffn_rows = std::min<int64_t>(tokens, kFeedForwardRows);
  ws->intermediate.Resize({ffn_rows, inter});
  float* hidden = ws->hidden.data<float>();
  float* qkv = ws->qkv.data<float>();
  float* context = ws->context.data<float>();
  float* projected = ws->projected.data<float>();
  float* intermediate = ws->intermediate.data<float>();
  const auto& k = kernels::Kernels();
  const float eps = config_.layer_norm_eps;

  Embed(batch, hidden);
  for (size_t index = 0; index < layers_.size(); ++index) {
    const PackedLayer& packed = layers_[index];
    const BertLayerWeights& layer = weights_.layers[index];
    packed.qkv.Run(hidden, tokens, qkv);
    Attention(batch, qkv, context, ws);
    packed.attention_output.Run(context, tokens, projected);
    ParallelRows(tokens, [&](int64_t begin, int64_t count) {
      k.bias_residual_layernorm(projected + begin * h, nullptr, hidden + begin * h,
                                layer.attention_norm_gamma.data(), layer.attention_norm_beta.data(),
                                count, h, eps);
    });
    for (int64_t row = 0; row < tokens; row += ffn_rows) {
      const int64_t rows = std::min(ffn_rows, tokens - row);
      packed.intermediate.Run(projected + row * h, rows, intermediate);
      packed.output.Run(intermediate, rows, hidden + row * h);
    }
    ParallelRows(tokens, [&](int64_t begin, int64_t count) {
      k.bias_residual_layernorm(hidden + begin * h, nullptr, projected + begin * h,
                                layer.output_norm_gamma.data(), layer.output_norm_beta.data(),
                                count, h, eps);
    });
  }
  return ws->hidden;
}

void BertEncoder::Classify(const PackedBatch& batch, const Tensor& hidden, EncoderWorkspace* ws,
                           std::vector<float>* logits) const {
  const int64_t h = config_.hidden_size;
  const int64_t sequences = batch.sequences();
  const int64_t labels = static_cast<int64_t>(config_.labels.size());
  const BertWeights& w = weights_;
  // Gather the first ([CLS], <s>) rows, then the head's two projections as
  // small GEMMs.
  ws->context.Resize({sequences, h});
  ws->projected.Resize({sequences, h});
  float* cls = ws->context.data<float>();
  float* pooled = ws->projected.data<float>();
  for (int64_t s = 0; s < sequences; ++s) {
    std::copy_n(hidden.data<float>() + batch.offsets[s] * h, h, cls + s * h);
  }
  const auto& k = kernels::Kernels();
  kernels::Linear(cls, sequences, h, w.pooler_weight.data(), h, pooled);
  if (config_.family().head_activation == HeadActivation::kRelu) {
    k.add_bias(pooled, w.pooler_bias.data(), sequences, h);
    for (int64_t i = 0; i < sequences * h; ++i) pooled[i] = std::max(pooled[i], 0.0f);
  } else {
    k.bias_tanh(pooled, w.pooler_bias.data(), sequences, h);
  }
  logits->resize(static_cast<size_t>(sequences * labels));
  kernels::Linear(pooled, sequences, h, w.classifier_weight.data(), labels, logits->data());
  k.add_bias(logits->data(), w.classifier_bias.data(), sequences, labels);
}

}  // namespace mg::model
