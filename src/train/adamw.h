// AdamW with decoupled weight decay (Loshchilov & Hutter), as PyTorch's
// torch.optim.AdamW computes it, plus the linear warm-up/decay schedule of
// Hugging Face's get_linear_schedule_with_warmup and global-norm gradient
// clipping (torch.nn.utils.clip_grad_norm_).
//
// AdamW owns its moment buffers; not thread-safe (Step uses OpenMP inside,
// with results independent of the thread count).
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"

namespace mg::train {

struct AdamWOptions {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
};

class AdamW {
 public:
  AdamW(const ParamLayout& layout, AdamWOptions options);

  // One update of `params` from `grads` * grad_scale (the clipping
  // coefficient, see ClipCoefficient) at learning rate `lr`; tensors with
  // decay = false get no weight decay, tensors with trainable = false are
  // left bit-identical.
  void Step(float lr, const float* grads, float* params, float grad_scale = 1.0f);

  int64_t step() const { return step_; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  void set_step(int64_t step) { step_ = step; }

 private:
  struct Chunk {
    int64_t begin = 0, size = 0;
    bool decay = true;
  };

  std::vector<ParamTensor> tensors_;
  std::vector<Chunk> chunks_;  // the parameters in fixed pieces of one tensor each
  AdamWOptions options_;
  std::vector<float> m_, v_;
  int64_t step_ = 0;
};

// Learning rate after `step` updates: linear from 0 to `peak` over `warmup`
// steps, then linear to 0 at `total`.
float LinearScheduleLr(float peak, int64_t step, int64_t warmup, int64_t total);

// The global L2 norm of `grads` (fixed summation order).
double GradNorm(const float* grads, size_t n);
// The factor clip_grad_norm_ scales gradients by: min(1, max_norm / (norm +
// 1e-6)); 1 when max_norm is not positive.
float ClipCoefficient(double norm, double max_norm);

// Scales `grads` so that their global L2 norm is at most `max_norm` (when
// positive); returns the norm before clipping.
double ClipGradNorm(float* grads, size_t n, double max_norm);

}  // namespace mg::train
