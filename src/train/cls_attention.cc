#include "train/cls_attention.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"

namespace mg::train {

void ClsAttentionForward(const float* qkv, const SequenceOffsets& seqs, int64_t heads,
                         int64_t head_dim, float p, uint64_t key, float* probs, float* dropped,
                         float* ctx) {
  const int64_t hidden = heads * head_dim;
  const int64_t ld = 3 * hidden;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t pairs = seqs.sequences * heads;
  const kernels::KernelTable& k = kernels::Kernels();
#pragma omp parallel for schedule(static)
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t s = pair / heads, head = pair % heads;
    const int64_t len = seqs.length(s), start = seqs.offsets[s];
    const int64_t column = head * head_dim;
    const float* q = qkv + start * ld + column;
    const int64_t offset = heads * start + head * len;
    float* prob = probs + offset;
    for (int64_t j = 0; j < len; ++j) {
      const float* kj = qkv + (start + j) * ld + hidden + column;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < head_dim; ++d) dot += q[d] * kj[d];
      prob[j] = dot * scale;
    }
    k.masked_softmax(prob, len, len);
    const float* weights = prob;
    if (p > 0.0f) {
      DropoutRange(prob, nullptr, dropped + offset, len, key, static_cast<uint64_t>(offset), p);
      weights = dropped + offset;
    }
    float* out = ctx + s * hidden + column;
    for (int64_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
    for (int64_t j = 0; j < len; ++j) {
      const float* vj = qkv + (start + j) * ld + 2 * hidden + column;
      const float w = weights[j];
#pragma omp simd
      for (int64_t d = 0; d < head_dim; ++d) out[d] += w * vj[d];
    }
  }
}

void ClsAttentionBackward(const float* qkv, const float* probs, const float* dropped,
                          const float* dctx, const SequenceOffsets& seqs, int64_t heads,
                          int64_t head_dim, float p, float* dqkv) {
  const int64_t hidden = heads * head_dim;
  const int64_t ld = 3 * hidden;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t pairs = seqs.sequences * heads;
  const float keep_scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
#pragma omp parallel
  {
    std::vector<float> dprob;
#pragma omp for schedule(static)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t s = pair / heads, head = pair % heads;
      const int64_t len = seqs.length(s), start = seqs.offsets[s];
      const int64_t column = head * head_dim;
      const float* q = qkv + start * ld + column;
      const int64_t offset = heads * start + head * len;
      const float* prob = probs + offset;
      const float* weights = p > 0.0f ? dropped + offset : prob;
      const float* dout = dctx + s * hidden + column;
      dprob.resize(len);
      float dot = 0;
      for (int64_t j = 0; j < len; ++j) {
        const float* vj = qkv + (start + j) * ld + 2 * hidden + column;
        float* dvj = dqkv + (start + j) * ld + 2 * hidden + column;
        float g = 0;
#pragma omp simd reduction(+ : g)
        for (int64_t d = 0; d < head_dim; ++d) g += dout[d] * vj[d];
        for (int64_t d = 0; d < head_dim; ++d) dvj[d] = weights[j] * dout[d];
        if (p > 0.0f) g = weights[j] != 0.0f ? g * keep_scale : 0.0f;
        dprob[j] = g;
        dot += g * prob[j];
      }
      float* dq = dqkv + start * ld + column;
      for (int64_t d = 0; d < head_dim; ++d) dq[d] = 0.0f;
      for (int64_t j = 0; j < len; ++j) {
        const float ds = prob[j] * (dprob[j] - dot) * scale;
        const float* kj = qkv + (start + j) * ld + hidden + column;
        float* dkj = dqkv + (start + j) * ld + hidden + column;
        for (int64_t d = 0; d < head_dim; ++d) {
          dq[d] += ds * kj[d];
          dkj[d] = ds * q[d];
        }
        if (j > 0) std::memset(dqkv + (start + j) * ld + column, 0, head_dim * sizeof(float));
      }
    }
  }
}

}  // namespace mg::train
