#include "train/modernbert_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/status.h"
#include "train/lora_ops.h"
#include "train/loss.h"

namespace mg::train {
namespace {

// Dropout sites: one key per place dropout happens.
constexpr uint64_t kEmbeddingSite = 0;
constexpr uint64_t kHeadSite = 1u << 20;
uint64_t AttentionProbsSite(int64_t layer) { return 1 + 3 * layer; }
uint64_t AttentionOutputSite(int64_t layer) { return 2 + 3 * layer; }
uint64_t FeedForwardSite(int64_t layer) { return 3 + 3 * layer; }

// The weight matrices a bf16 net multiplies in bf16: every linear layer's.
std::vector<std::pair<size_t, size_t>> WeightMatrices(const ParamLayout& l) {
  const size_t h = l.hidden, inter = l.intermediate;
  std::vector<std::pair<size_t, size_t>> matrices;
  for (const LayerOffsets& o : l.layer) {
    matrices.push_back({o.qkv_weight, 3 * h * h});
    matrices.push_back({o.attention_output_weight, h * h});
    matrices.push_back({o.intermediate_weight, 2 * inter * h});
    matrices.push_back({o.output_weight, h * inter});
  }
  matrices.push_back({l.pooler_weight, h * h});
  matrices.push_back({l.classifier_weight, static_cast<size_t>(l.labels) * h});
  return matrices;
}

// (cos, sin) of position * theta^(-2i/head_dim) for i < head_dim / 2, per
// position, for positions below `length`.
void RotaryTable(double theta, int64_t head_dim, int64_t length, std::vector<float>* table) {
  const int64_t half = head_dim / 2;
  if (static_cast<int64_t>(table->size()) >= length * half * 2) return;
  table->resize(length * half * 2);
  for (int64_t i = 0; i < half; ++i) {
    const double inv_freq =
        1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
    for (int64_t position = 0; position < length; ++position) {
      const double angle = static_cast<double>(position) * inv_freq;
      (*table)[(position * half + i) * 2] = static_cast<float>(std::cos(angle));
      (*table)[(position * half + i) * 2 + 1] = static_cast<float>(std::sin(angle));
    }
  }
}

// x[i] += y[i] over n values.
void Add(float* x, const float* y, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace

ModernBertNet::ModernBertNet(ParamLayout layout, NetOptions options)
    : layout_(std::move(layout)),
      options_(options),
      bf16_(options.dtype, WeightMatrices(layout_)),
      zeros_(layout_.hidden, 0.0f),
      acts_(layout_.layers) {
  MG_CHECK_MSG(layout_.family == model::FamilyId::kModernBert,
               "ModernBertNet needs a ModernBERT layout");
}

const float* ModernBertNet::Beta(const float* params, size_t offset) const {
  return offset == kNoTensor ? zeros_.data() : params + offset;
}

void ModernBertNet::Rotate(float* qkv, const TrainBatch& batch, bool sliding, bool inverse) const {
  const int64_t h = layout_.hidden, head_dim = h / layout_.heads, half = head_dim / 2;
  const std::vector<float>& table = sliding ? rotary_local_ : rotary_global_;
  const float sign = inverse ? -1.0f : 1.0f;
  const int64_t tokens = batch.tokens();
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < tokens; ++t) {
    const float* entry = table.data() + static_cast<int64_t>(positions_[t]) * half * 2;
    for (int64_t part = 0; part < 2; ++part) {  // query, key
      for (int64_t head = 0; head < layout_.heads; ++head) {
        float* x = qkv + t * 3 * h + part * h + head * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float cos = entry[2 * i], sin = sign * entry[2 * i + 1];
          const float x1 = x[i], x2 = x[i + half];
          x[i] = x1 * cos - x2 * sin;
          x[i + half] = x2 * cos + x1 * sin;
        }
      }
    }
  }
}

void ModernBertNet::Forward(const float* params, const TrainBatch& batch, bool train,
                            uint64_t dropout_seed) {
  MG_CHECK_MSG(bf16_.IsSetFrom(params),
               "a bf16 ModernBertNet needs SetWeights(params) before Forward");
  train_ = train;
  seed_ = dropout_seed;
  const ParamLayout& l = layout_;
  const model::ModernBertSettings& m = l.modernbert;
  const int64_t tokens = batch.tokens(), batch_size = batch.sequences();
  const int64_t h = l.hidden, inter = l.intermediate, head_dim = h / l.heads;
  const SequenceOffsets seqs{batch.offsets.data(), batch_size};
  const float hidden_p = train ? options_.hidden_dropout : 0.0f;
  const float attention_p = train ? options_.attention_dropout : 0.0f;
  auto key = [&](uint64_t site) { return DropoutKey(seed_, 0, site); };
  const float eps = l.layer_norm_eps;

  int64_t max_len = 0;
  positions_.resize(tokens);
  for (int64_t s = 0; s < batch_size; ++s) {
    max_len = std::max(max_len, seqs.length(s));
    for (int64_t t = batch.offsets[s]; t < batch.offsets[s + 1]; ++t)
      positions_[t] = static_cast<int32_t>(t - batch.offsets[s]);
  }
  RotaryTable(m.global_rope_theta, head_dim, max_len, &rotary_global_);
  RotaryTable(m.local_rope_theta, head_dim, max_len, &rotary_local_);

  // Embeddings: the token's row, its norm, dropout.
  float* x;
  if (l.layers > 0) {
    acts_[0].input.resize(tokens * h);
    x = acts_[0].input.data();
  } else {
    final_.resize(tokens * h);
    x = final_.data();
  }
  for (int64_t t = 0; t < tokens; ++t)
    std::memcpy(x + t * h, params + l.word_embeddings + static_cast<int64_t>(batch.ids[t]) * h,
                h * sizeof(float));
  embed_xhat_.resize(tokens * h);
  embed_rstd_.resize(tokens);
  LayerNormForward(x, tokens, h, params + l.embedding_norm_gamma,
                   Beta(params, l.embedding_norm_beta), eps, x, embed_xhat_.data(),
                   embed_rstd_.data());
  Dropout(x, tokens * h, key(kEmbeddingSite), hidden_p);

  for (int64_t layer = 0; layer < l.layers; ++layer) {
    LayerActivations& a = acts_[layer];
    const LayerOffsets& o = l.layer[layer];
    const bool sliding = m.sliding_layers[layer];
    float* out;
    if (layer + 1 < l.layers) {
      acts_[layer + 1].input.resize(tokens * h);
      out = acts_[layer + 1].input.data();
    } else {
      final_.resize(tokens * h);
      out = final_.data();
    }
    // Attention on attn_norm(input) (the input itself in layer 0).
    const float* attn_in = a.input.data();
    if (o.attention_norm_gamma != kNoTensor) {
      a.attn_normed.resize(tokens * h);
      a.attn_xhat.resize(tokens * h);
      a.attn_rstd.resize(tokens);
      LayerNormForward(a.input.data(), tokens, h, params + o.attention_norm_gamma,
                       Beta(params, o.attention_norm_beta), eps, a.attn_normed.data(),
                       a.attn_xhat.data(), a.attn_rstd.data());
      attn_in = a.attn_normed.data();
    }
    a.qkv.resize(tokens * 3 * h);
    LinearForward(attn_in, tokens, h, params + o.qkv_weight, ParamAt(params, o.qkv_bias), 3 * h,
                  a.qkv.data(), Precision(o.qkv_weight));
    if (l.has_lora()) {
      a.lora_xa.resize(tokens * l.lora_rank);
      LoraForward(attn_in, tokens, h, params + o.lora_query_a, params + o.lora_query_b, l.lora_rank,
                  3 * h, l.lora_scale, a.lora_xa.data(), a.qkv.data(), 3 * h);
    }
    Rotate(a.qkv.data(), batch, sliding, false);
    a.probs.resize(AttentionProbsFloats(seqs, l.heads));
    if (attention_p > 0.0f) a.dropped.resize(a.probs.size());
    a.ctx.resize(tokens * h);
    AttentionForward(a.qkv.data(), seqs, l.heads, head_dim, attention_p,
                     key(AttentionProbsSite(layer)), a.probs.data(), a.dropped.data(), a.ctx.data(),
                     sliding ? m.local_attention / 2 : -1);
    a.mid.resize(tokens * h);
    LinearForward(a.ctx.data(), tokens, h, params + o.attention_output_weight,
                  ParamAt(params, o.attention_output_bias), h, a.mid.data(),
                  Precision(o.attention_output_weight));
    Dropout(a.mid.data(), a.input.data(), a.mid.data(), tokens * h, key(AttentionOutputSite(layer)),
            attention_p);
    // The GeGLU block on mlp_norm(mid).
    a.mlp_normed.resize(tokens * h);
    a.mlp_xhat.resize(tokens * h);
    a.mlp_rstd.resize(tokens);
    LayerNormForward(a.mid.data(), tokens, h, params + o.output_norm_gamma,
                     Beta(params, o.output_norm_beta), eps, a.mlp_normed.data(), a.mlp_xhat.data(),
                     a.mlp_rstd.data());
    a.wide.resize(tokens * 2 * inter);
    LinearForward(a.mlp_normed.data(), tokens, h, params + o.intermediate_weight,
                  ParamAt(params, o.intermediate_bias), 2 * inter, a.wide.data(),
                  Precision(o.intermediate_weight));
    a.act.resize(tokens * inter);
    a.gated.resize(tokens * inter);
    GegluForward(a.wide.data(), tokens, inter, a.act.data(), a.gated.data());
    Dropout(a.gated.data(), tokens * inter, key(FeedForwardSite(layer)), hidden_p);
    LinearForward(a.gated.data(), tokens, inter, params + o.output_weight,
                  ParamAt(params, o.output_bias), h, out, Precision(o.output_weight));
    Add(out, a.mid.data(), tokens * h);
  }
  final_xhat_.resize(tokens * h);
  final_rstd_.resize(tokens);
  LayerNormForward(final_.data(), tokens, h, params + l.final_norm_gamma,
                   Beta(params, l.final_norm_beta), eps, final_.data(), final_xhat_.data(),
                   final_rstd_.data());

  // Pooling and the head.
  pooled_.assign(batch_size * h, 0.0f);
  for (int64_t s = 0; s < batch_size; ++s) {
    float* row = pooled_.data() + s * h;
    const int64_t first = batch.offsets[s], length = seqs.length(s);
    if (length == 0) continue;
    if (!m.classifier_mean_pooling) {
      std::memcpy(row, final_.data() + first * h, h * sizeof(float));
      continue;
    }
    for (int64_t t = first; t < first + length; ++t)
      for (int64_t c = 0; c < h; ++c) row[c] += final_[t * h + c];
    const float inv = 1.0f / static_cast<float>(length);
    for (int64_t c = 0; c < h; ++c) row[c] *= inv;
  }
  head_pre_.resize(batch_size * h);
  LinearForward(pooled_.data(), batch_size, h, params + l.pooler_weight,
                ParamAt(params, l.pooler_bias), h, head_pre_.data(), Precision(l.pooler_weight));
  head_act_.resize(batch_size * h);
  switch (m.classifier_activation) {
    case model::ClassifierActivation::kGelu:
      GeluForward(head_pre_.data(), batch_size * h, head_act_.data());
      break;
    case model::ClassifierActivation::kTanh:
      TanhForward(head_pre_.data(), batch_size * h, head_act_.data());
      break;
    case model::ClassifierActivation::kRelu:
      for (int64_t i = 0; i < batch_size * h; ++i) head_act_[i] = std::max(head_pre_[i], 0.0f);
      break;
  }
  head_out_.resize(batch_size * h);
  head_xhat_.resize(batch_size * h);
  head_rstd_.resize(batch_size);
  LayerNormForward(head_act_.data(), batch_size, h, params + l.head_norm_gamma,
                   Beta(params, l.head_norm_beta), eps, head_out_.data(), head_xhat_.data(),
                   head_rstd_.data());
  Dropout(head_out_.data(), batch_size * h, key(kHeadSite), hidden_p);
  logits_.resize(batch_size * l.labels);
  LinearForward(head_out_.data(), batch_size, h, params + l.classifier_weight,
                params + l.classifier_bias, l.labels, logits_.data(),
                Precision(l.classifier_weight));
}

double ModernBertNet::Backward(const float* params, const TrainBatch& batch, float* grads) {
  const ParamLayout& l = layout_;
  const model::ModernBertSettings& m = l.modernbert;
  const int64_t tokens = batch.tokens(), batch_size = batch.sequences();
  const int64_t h = l.hidden, inter = l.intermediate, head_dim = h / l.heads;
  const SequenceOffsets seqs{batch.offsets.data(), batch_size};
  const float hidden_p = train_ ? options_.hidden_dropout : 0.0f;
  const float attention_p = train_ ? options_.attention_dropout : 0.0f;
  auto key = [&](uint64_t site) { return DropoutKey(seed_, 0, site); };
  std::memset(grads, 0, l.total * sizeof(float));
  // A LoRA layout freezes the encoder: its weights get no gradient (null
  // skips those products) but gradients still flow through them.
  const bool frozen = l.has_lora();
  auto encoder_grad = [&](size_t offset) { return frozen ? nullptr : ParamAt(grads, offset); };
  dbeta_scratch_.resize(h);
  // dx = LayerNorm'(dy) in place; parameter gradients unless frozen.
  auto norm_backward = [&](float* g, const std::vector<float>& xhat, const std::vector<float>& rstd,
                           size_t gamma, size_t beta, int64_t rows, bool trainable) {
    float* dgamma = trainable ? grads + gamma : nullptr;
    float* dbeta = !trainable ? nullptr : beta == kNoTensor ? dbeta_scratch_.data() : grads + beta;
    LayerNormBackward(g, xhat.data(), rstd.data(), params + gamma, rows, h, g, dgamma, dbeta);
  };

  dlogits_.resize(batch_size * l.labels);
  const double loss = LossAndGradient(options_.problem, logits_.data(), batch.targets.data(),
                                      batch_size, l.labels, dlogits_.data());
  dhead_.resize(batch_size * h);
  LinearBackward(head_out_.data(), dlogits_.data(), batch_size, h, params + l.classifier_weight,
                 l.labels, dhead_.data(), false, grads + l.classifier_weight,
                 grads + l.classifier_bias, Precision(l.classifier_weight));
  Dropout(dhead_.data(), batch_size * h, key(kHeadSite), hidden_p);
  norm_backward(dhead_.data(), head_xhat_, head_rstd_, l.head_norm_gamma, l.head_norm_beta,
                batch_size, true);
  switch (m.classifier_activation) {
    case model::ClassifierActivation::kGelu:
      GeluBackward(head_pre_.data(), dhead_.data(), batch_size * h, dhead_.data());
      break;
    case model::ClassifierActivation::kTanh:
      TanhBackward(head_act_.data(), dhead_.data(), batch_size * h, dhead_.data());
      break;
    case model::ClassifierActivation::kRelu:
      for (int64_t i = 0; i < batch_size * h; ++i)
        if (head_pre_[i] <= 0.0f) dhead_[i] = 0.0f;
      break;
  }
  dpooled_.resize(batch_size * h);
  LinearBackward(pooled_.data(), dhead_.data(), batch_size, h, params + l.pooler_weight, h,
                 dpooled_.data(), false, grads + l.pooler_weight, ParamAt(grads, l.pooler_bias),
                 Precision(l.pooler_weight));

  // d final_norm output, from the pooling.
  grad_.assign(tokens * h, 0.0f);
  for (int64_t s = 0; s < batch_size; ++s) {
    const float* d = dpooled_.data() + s * h;
    const int64_t first = batch.offsets[s], length = seqs.length(s);
    if (length == 0) continue;
    if (!m.classifier_mean_pooling) {
      std::memcpy(grad_.data() + first * h, d, h * sizeof(float));
      continue;
    }
    const float inv = 1.0f / static_cast<float>(length);
    for (int64_t t = first; t < first + length; ++t)
      for (int64_t c = 0; c < h; ++c) grad_[t * h + c] = d[c] * inv;
  }
  norm_backward(grad_.data(), final_xhat_, final_rstd_, l.final_norm_gamma, l.final_norm_beta,
                tokens, !frozen);

  grad2_.resize(tokens * h);
  grad_inter_.resize(tokens * std::max(inter, h));  // d gated [T, I], then d ctx [T, H]
  grad_wide_.resize(tokens * 2 * inter);
  grad_qkv_.resize(tokens * 3 * h);
  for (int64_t layer = l.layers - 1; layer >= 0; --layer) {
    LayerActivations& a = acts_[layer];
    const LayerOffsets& o = l.layer[layer];
    const bool sliding = m.sliding_layers[layer];
    float* g = grad_.data();  // d layer output, then d mid, then d layer input
    // out = mid + mlp.Wo(dropout(GeGLU(mlp.Wi(mlp_norm(mid))))).
    LinearBackward(a.gated.data(), g, tokens, inter, params + o.output_weight, h,
                   grad_inter_.data(), false, encoder_grad(o.output_weight),
                   encoder_grad(o.output_bias), Precision(o.output_weight));
    Dropout(grad_inter_.data(), tokens * inter, key(FeedForwardSite(layer)), hidden_p);
    GegluBackward(a.wide.data(), a.act.data(), grad_inter_.data(), tokens, inter,
                  grad_wide_.data());
    LinearBackward(a.mlp_normed.data(), grad_wide_.data(), tokens, h,
                   params + o.intermediate_weight, 2 * inter, grad2_.data(), false,
                   encoder_grad(o.intermediate_weight), encoder_grad(o.intermediate_bias),
                   Precision(o.intermediate_weight));
    norm_backward(grad2_.data(), a.mlp_xhat, a.mlp_rstd, o.output_norm_gamma, o.output_norm_beta,
                  tokens, !frozen);
    Add(g, grad2_.data(), tokens * h);
    // mid = input + dropout(attn.Wo(attention(rotate(Wqkv(attn_norm(input)))))).
    Dropout(g, nullptr, grad2_.data(), tokens * h, key(AttentionOutputSite(layer)), attention_p);
    float* dctx = grad_inter_.data();
    LinearBackward(a.ctx.data(), grad2_.data(), tokens, h, params + o.attention_output_weight, h,
                   dctx, false, encoder_grad(o.attention_output_weight),
                   encoder_grad(o.attention_output_bias), Precision(o.attention_output_weight));
    AttentionBackward(a.qkv.data(), a.probs.data(), a.dropped.data(), dctx, seqs, l.heads, head_dim,
                      attention_p, grad_qkv_.data());
    Rotate(grad_qkv_.data(), batch, sliding, true);
    const bool normed = o.attention_norm_gamma != kNoTensor;
    const float* attn_in = normed ? a.attn_normed.data() : a.input.data();
    // The first layer's input gradient only matters to trainable embeddings.
    const bool need_dx = !(frozen && layer == 0 && !options_.input_grad);
    float* dattn_in = !need_dx ? nullptr : normed ? grad2_.data() : g;
    LinearBackward(attn_in, grad_qkv_.data(), tokens, h, params + o.qkv_weight, 3 * h, dattn_in,
                   !normed, encoder_grad(o.qkv_weight), encoder_grad(o.qkv_bias),
                   Precision(o.qkv_weight));
    if (l.has_lora()) {
      lora_dxa_.resize(tokens * l.lora_rank);
      LoraBackward(attn_in, grad_qkv_.data(), 3 * h, tokens, h, params + o.lora_query_a,
                   params + o.lora_query_b, l.lora_rank, 3 * h, l.lora_scale, a.lora_xa.data(),
                   lora_dxa_.data(), dattn_in, grads + o.lora_query_a, grads + o.lora_query_b);
    }
    if (normed && need_dx) {
      norm_backward(grad2_.data(), a.attn_xhat, a.attn_rstd, o.attention_norm_gamma,
                    o.attention_norm_beta, tokens, !frozen);
      Add(g, grad2_.data(), tokens * h);
    }
  }
  if (frozen) return loss;  // the embeddings are frozen too
  Dropout(grad_.data(), tokens * h, key(kEmbeddingSite), hidden_p);
  norm_backward(grad_.data(), embed_xhat_, embed_rstd_, l.embedding_norm_gamma,
                l.embedding_norm_beta, tokens, true);
  float* dword = grads + l.word_embeddings;
  for (int64_t t = 0; t < tokens; ++t) {
    float* row = dword + static_cast<int64_t>(batch.ids[t]) * h;
    const float* d = grad_.data() + t * h;
    for (int64_t c = 0; c < h; ++c) row[c] += d[c];
  }
  return loss;
}

}  // namespace mg::train
