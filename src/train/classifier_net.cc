#include "train/classifier_net.h"

#include <algorithm>
#include <cstring>

#include "base/status.h"
#include "train/cls_attention.h"
#include "train/lora_ops.h"
#include "train/loss.h"

namespace mg::train {
namespace {

// Dropout sites: one key per place dropout happens.
constexpr uint64_t kEmbeddingSite = 0;
constexpr uint64_t kPoolerSite = 1u << 20;
constexpr uint64_t kHeadInputSite = (1u << 20) + 1;
uint64_t AttentionProbsSite(int64_t layer) { return 1 + 3 * layer; }
uint64_t AttentionOutputSite(int64_t layer) { return 2 + 3 * layer; }
uint64_t FeedForwardSite(int64_t layer) { return 3 + 3 * layer; }

}  // namespace

namespace {

// The weight matrices of the encoder layers and the head: what a bf16 net
// multiplies in bf16.
std::vector<std::pair<size_t, size_t>> WeightMatrices(const ParamLayout& l) {
  const size_t h = l.hidden, inter = l.intermediate;
  std::vector<std::pair<size_t, size_t>> matrices;
  for (const LayerOffsets& o : l.layer) {
    matrices.push_back({o.qkv_weight, 3 * h * h});
    matrices.push_back({o.attention_output_weight, h * h});
    matrices.push_back({o.intermediate_weight, inter * h});
    matrices.push_back({o.output_weight, h * inter});
  }
  matrices.push_back({l.pooler_weight, h * h});
  matrices.push_back({l.classifier_weight, static_cast<size_t>(l.labels) * h});
  return matrices;
}

}  // namespace

ClassifierNet::ClassifierNet(ParamLayout layout, NetOptions options)
    : layout_(std::move(layout)),
      options_(options),
      bf16_(options.dtype, WeightMatrices(layout_)),
      acts_(layout_.layers) {}

void ClassifierNet::SetWeights(const float* params) { bf16_.Set(params); }

void ClassifierNet::Forward(const float* params, const TrainBatch& batch, bool train,
                            uint64_t dropout_seed) {
  MG_CHECK_MSG(bf16_.IsSetFrom(params),
               "a bf16 ClassifierNet needs SetWeights(params) before Forward");
  train_ = train;
  seed_ = dropout_seed;
  const ParamLayout& l = layout_;
  const int64_t tokens = batch.tokens(), batch_size = batch.sequences();
  const int64_t h = l.hidden, inter = l.intermediate, head_dim = h / l.heads;
  const SequenceOffsets seqs{batch.offsets.data(), batch_size};
  const float hidden_p = train ? options_.hidden_dropout : 0.0f;
  const float attention_p = train ? options_.attention_dropout : 0.0f;
  auto key = [&](uint64_t site) { return DropoutKey(seed_, 0, site); };
  const float eps = options_.layer_norm_eps;
  const bool relu_head = l.family_info().head_activation == model::HeadActivation::kRelu;

  encoded_.resize(options_.last_layer_cls_only && l.layers > 0 ? 0 : tokens * h);
  float* x;
  if (l.layers > 0) {
    acts_[0].input.resize(tokens * h);
    x = acts_[0].input.data();
  } else {
    x = encoded_.data();
  }
  embed_xhat_.resize(tokens * h);
  embed_rstd_.resize(tokens);
  const int32_t* position_ids = nullptr;
  if (l.family_info().positions_after_padding) {
    positions_.resize(tokens);
    for (int64_t s = 0; s < batch_size; ++s)
      model::PositionIds(l.family_info(), batch.ids.data() + batch.offsets[s],
                         batch.offsets[s + 1] - batch.offsets[s], l.pad_token_id,
                         positions_.data() + batch.offsets[s]);
    position_ids = positions_.data();
  }
  EmbeddingForward(batch.ids.data(), batch.type_ids.data(), seqs, params + l.word_embeddings,
                   params + l.position_embeddings,
                   l.types > 0 ? params + l.token_type_embeddings : nullptr, h, x, position_ids);
  LayerNormForward(x, tokens, h, params + l.embedding_norm_gamma, params + l.embedding_norm_beta,
                   eps, x, embed_xhat_.data(), embed_rstd_.data());
  Dropout(x, tokens * h, key(kEmbeddingSite), hidden_p);

  for (int64_t layer = 0; layer < l.layers; ++layer) {
    LayerActivations& a = acts_[layer];
    const LayerOffsets& o = l.layer[layer];
    // The last layer runs attention for the [CLS] queries only and everything
    // after it on the [CLS] rows only: nothing else reaches the pooler.
    const bool cls_only = options_.last_layer_cls_only && layer + 1 == l.layers;
    const int64_t rows = cls_only ? batch_size : tokens;
    const float* residual = a.input.data();
    float* out;
    if (cls_only) {
      a.cls_input.resize(batch_size * h);
      for (int64_t s = 0; s < batch_size; ++s)
        std::memcpy(a.cls_input.data() + s * h, a.input.data() + batch.offsets[s] * h,
                    h * sizeof(float));
      residual = a.cls_input.data();
      cls_.resize(batch_size * h);
      out = cls_.data();
    } else if (layer + 1 < l.layers) {
      acts_[layer + 1].input.resize(tokens * h);
      out = acts_[layer + 1].input.data();
    } else {
      out = encoded_.data();
    }
    a.qkv.resize(tokens * 3 * h);
    LinearForward(a.input.data(), tokens, h, params + o.qkv_weight, params + o.qkv_bias, 3 * h,
                  a.qkv.data(), Precision(o.qkv_weight));
    if (l.has_lora()) {
      const int64_t r = l.lora_rank;
      a.lora_query_xa.resize(tokens * r);
      a.lora_value_xa.resize(tokens * r);
      LoraForward(a.input.data(), tokens, h, params + o.lora_query_a, params + o.lora_query_b, r, h,
                  l.lora_scale, a.lora_query_xa.data(), a.qkv.data(), 3 * h);
      LoraForward(a.input.data(), tokens, h, params + o.lora_value_a, params + o.lora_value_b, r, h,
                  l.lora_scale, a.lora_value_xa.data(), a.qkv.data() + 2 * h, 3 * h);
    }
    a.probs.resize(cls_only ? ClsAttentionProbsFloats(seqs, l.heads)
                            : AttentionProbsFloats(seqs, l.heads));
    if (attention_p > 0.0f) a.dropped.resize(a.probs.size());
    a.ctx.resize(rows * h);
    if (cls_only) {
      ClsAttentionForward(a.qkv.data(), seqs, l.heads, head_dim, attention_p,
                          key(AttentionProbsSite(layer)), a.probs.data(), a.dropped.data(),
                          a.ctx.data());
    } else {
      AttentionForward(a.qkv.data(), seqs, l.heads, head_dim, attention_p,
                       key(AttentionProbsSite(layer)), a.probs.data(), a.dropped.data(),
                       a.ctx.data());
    }
    a.attention_out.resize(rows * h);
    LinearForward(a.ctx.data(), rows, h, params + o.attention_output_weight,
                  params + o.attention_output_bias, h, a.attention_out.data(),
                  Precision(o.attention_output_weight));
    Dropout(a.attention_out.data(), residual, a.attention_out.data(), rows * h,
            key(AttentionOutputSite(layer)), hidden_p);
    a.norm1_xhat.resize(rows * h);
    a.norm1_rstd.resize(rows);
    LayerNormForward(a.attention_out.data(), rows, h, params + o.attention_norm_gamma,
                     params + o.attention_norm_beta, eps, a.attention_out.data(),
                     a.norm1_xhat.data(), a.norm1_rstd.data());
    a.gelu_grad.resize(rows * inter);
    a.gelu.resize(rows * inter);
    LinearForward(a.attention_out.data(), rows, h, params + o.intermediate_weight, nullptr, inter,
                  a.gelu_grad.data(), Precision(o.intermediate_weight));
    BiasGeluForward(a.gelu_grad.data(), params + o.intermediate_bias, rows, inter, a.gelu.data());
    LinearForward(a.gelu.data(), rows, inter, params + o.output_weight, params + o.output_bias, h,
                  out, Precision(o.output_weight));
    Dropout(out, a.attention_out.data(), out, rows * h, key(FeedForwardSite(layer)), hidden_p);
    a.norm2_xhat.resize(rows * h);
    a.norm2_rstd.resize(rows);
    LayerNormForward(out, rows, h, params + o.output_norm_gamma, params + o.output_norm_beta, eps,
                     out, a.norm2_xhat.data(), a.norm2_rstd.data());
  }

  if (l.layers == 0 || !options_.last_layer_cls_only) {
    cls_.resize(batch_size * h);
    for (int64_t s = 0; s < batch_size; ++s)
      std::memcpy(cls_.data() + s * h, encoded_.data() + batch.offsets[s] * h, h * sizeof(float));
  }
  const float* head_input = cls_.data();
  if (l.family_info().head_input_dropout) {
    cls_dropped_ = cls_;
    Dropout(cls_dropped_.data(), batch_size * h, key(kHeadInputSite), hidden_p);
    head_input = cls_dropped_.data();
  }
  pooled_.resize(batch_size * h);
  LinearForward(head_input, batch_size, h, params + l.pooler_weight, params + l.pooler_bias, h,
                pooled_.data(), Precision(l.pooler_weight));
  if (relu_head) {
    for (float& v : pooled_) v = std::max(v, 0.0f);
  } else {
    TanhForward(pooled_.data(), batch_size * h, pooled_.data());
  }
  pooled_dropped_ = pooled_;
  Dropout(pooled_dropped_.data(), batch_size * h, key(kPoolerSite), hidden_p);
  logits_.resize(batch_size * l.labels);
  LinearForward(pooled_dropped_.data(), batch_size, h, params + l.classifier_weight,
                params + l.classifier_bias, l.labels, logits_.data(),
                Precision(l.classifier_weight));
}

double ClassifierNet::Backward(const float* params, const TrainBatch& batch, float* grads) {
  const ParamLayout& l = layout_;
  const int64_t tokens = batch.tokens(), batch_size = batch.sequences();
  const int64_t h = l.hidden, inter = l.intermediate, head_dim = h / l.heads;
  const SequenceOffsets seqs{batch.offsets.data(), batch_size};
  const float hidden_p = train_ ? options_.hidden_dropout : 0.0f;
  const float attention_p = train_ ? options_.attention_dropout : 0.0f;
  auto key = [&](uint64_t site) { return DropoutKey(seed_, 0, site); };
  std::memset(grads, 0, l.total * sizeof(float));
  const bool relu_head = l.family_info().head_activation == model::HeadActivation::kRelu;
  // A LoRA layout freezes the encoder: its weights get no gradient (null
  // skips those products) but gradients still flow through them.
  const bool frozen = l.has_lora();
  auto encoder_grad = [&](size_t offset) { return frozen ? nullptr : grads + offset; };

  dlogits_.resize(batch_size * l.labels);
  const double loss = LossAndGradient(options_.problem, logits_.data(), batch.targets.data(),
                                      batch_size, l.labels, dlogits_.data());
  dpooled_.resize(batch_size * h);
  LinearBackward(pooled_dropped_.data(), dlogits_.data(), batch_size, h,
                 params + l.classifier_weight, l.labels, dpooled_.data(), false,
                 grads + l.classifier_weight, grads + l.classifier_bias,
                 Precision(l.classifier_weight));
  Dropout(dpooled_.data(), batch_size * h, key(kPoolerSite), hidden_p);
  if (relu_head) {
    for (int64_t i = 0; i < batch_size * h; ++i)
      if (pooled_[i] <= 0.0f) dpooled_[i] = 0.0f;
  } else {
    TanhBackward(pooled_.data(), dpooled_.data(), batch_size * h, dpooled_.data());
  }
  dcls_.resize(batch_size * h);
  const bool head_input_dropout = l.family_info().head_input_dropout;
  LinearBackward(head_input_dropout ? cls_dropped_.data() : cls_.data(), dpooled_.data(),
                 batch_size, h, params + l.pooler_weight, h, dcls_.data(), false,
                 grads + l.pooler_weight, grads + l.pooler_bias, Precision(l.pooler_weight));
  if (head_input_dropout) Dropout(dcls_.data(), batch_size * h, key(kHeadInputSite), hidden_p);
  grad_.resize(tokens * h);
  grad2_.resize(tokens * h);
  grad_inter_.resize(tokens * std::max(inter, h));
  grad_qkv_.resize(tokens * 3 * h);
  if (l.layers == 0 || !options_.last_layer_cls_only) {
    std::fill(grad_.begin(), grad_.end(), 0.0f);
    for (int64_t s = 0; s < batch_size; ++s)
      std::memcpy(grad_.data() + batch.offsets[s] * h, dcls_.data() + s * h, h * sizeof(float));
  }
  for (int64_t layer = l.layers - 1; layer >= 0; --layer) {
    const LayerActivations& a = acts_[layer];
    const LayerOffsets& o = l.layer[layer];
    const bool cls_only = options_.last_layer_cls_only && layer + 1 == l.layers;
    const int64_t rows = cls_only ? batch_size : tokens;
    // g holds d(layer output): the [CLS] rows only in the last layer.
    float* g = cls_only ? dcls_.data() : grad_.data();
    LayerNormBackward(g, a.norm2_xhat.data(), a.norm2_rstd.data(), params + o.output_norm_gamma,
                      rows, h, g, encoder_grad(o.output_norm_gamma),
                      encoder_grad(o.output_norm_beta));
    Dropout(g, nullptr, grad2_.data(), rows * h, key(FeedForwardSite(layer)), hidden_p);
    LinearBackward(a.gelu.data(), grad2_.data(), rows, inter, params + o.output_weight, h,
                   grad_inter_.data(), false, encoder_grad(o.output_weight),
                   encoder_grad(o.output_bias), Precision(o.output_weight));
    GeluBackwardFromGrad(a.gelu_grad.data(), grad_inter_.data(), rows * inter, grad_inter_.data());
    LinearBackward(a.attention_out.data(), grad_inter_.data(), rows, h,
                   params + o.intermediate_weight, inter, g, true,
                   encoder_grad(o.intermediate_weight), encoder_grad(o.intermediate_bias),
                   Precision(o.intermediate_weight));
    LayerNormBackward(g, a.norm1_xhat.data(), a.norm1_rstd.data(), params + o.attention_norm_gamma,
                      rows, h, g, encoder_grad(o.attention_norm_gamma),
                      encoder_grad(o.attention_norm_beta));
    Dropout(g, nullptr, grad2_.data(), rows * h, key(AttentionOutputSite(layer)), hidden_p);
    float* dctx = grad_inter_.data();
    LinearBackward(a.ctx.data(), grad2_.data(), rows, h, params + o.attention_output_weight, h,
                   dctx, false, encoder_grad(o.attention_output_weight),
                   encoder_grad(o.attention_output_bias), Precision(o.attention_output_weight));
    if (cls_only) {
      ClsAttentionBackward(a.qkv.data(), a.probs.data(), a.dropped.data(), dctx, seqs, l.heads,
                           head_dim, attention_p, grad_qkv_.data());
      // The residual gradient reaches the [CLS] rows of the layer input only.
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      for (int64_t s = 0; s < batch_size; ++s)
        std::memcpy(grad_.data() + batch.offsets[s] * h, g + s * h, h * sizeof(float));
    } else {
      AttentionBackward(a.qkv.data(), a.probs.data(), a.dropped.data(), dctx, seqs, l.heads,
                        head_dim, attention_p, grad_qkv_.data());
    }
    // The first layer's input gradient only matters to trainable embeddings.
    float* dinput = frozen && layer == 0 && !options_.input_grad ? nullptr : grad_.data();
    LinearBackward(a.input.data(), grad_qkv_.data(), tokens, h, params + o.qkv_weight, 3 * h,
                   dinput, true, encoder_grad(o.qkv_weight), encoder_grad(o.qkv_bias),
                   Precision(o.qkv_weight));
    if (l.has_lora()) {
      const int64_t r = l.lora_rank;
      lora_dxa_.resize(tokens * r);
      LoraBackward(a.input.data(), grad_qkv_.data(), 3 * h, tokens, h, params + o.lora_query_a,
                   params + o.lora_query_b, r, h, l.lora_scale, a.lora_query_xa.data(),
                   lora_dxa_.data(), dinput, grads + o.lora_query_a, grads + o.lora_query_b);
      LoraBackward(a.input.data(), grad_qkv_.data() + 2 * h, 3 * h, tokens, h,
                   params + o.lora_value_a, params + o.lora_value_b, r, h, l.lora_scale,
                   a.lora_value_xa.data(), lora_dxa_.data(), dinput, grads + o.lora_value_a,
                   grads + o.lora_value_b);
    }
  }
  if (frozen) return loss;  // the embeddings are frozen too
  Dropout(grad_.data(), tokens * h, key(kEmbeddingSite), hidden_p);
  LayerNormBackward(grad_.data(), embed_xhat_.data(), embed_rstd_.data(),
                    params + l.embedding_norm_gamma, tokens, h, grad_.data(),
                    grads + l.embedding_norm_gamma, grads + l.embedding_norm_beta);
  EmbeddingBackward(batch.ids.data(), batch.type_ids.data(), seqs, grad_.data(), h,
                    grads + l.word_embeddings, grads + l.position_embeddings,
                    l.types > 0 ? grads + l.token_type_embeddings : nullptr,
                    l.family_info().positions_after_padding ? positions_.data() : nullptr);
  return loss;
}

}  // namespace mg::train
