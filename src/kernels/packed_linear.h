// PackedLinear: a linear layer y = act(x W^T + b) whose weights are packed
// once, at load time, into the blocked layout oneDNN's matmul kernels want,
// with the bias and the activation fused into the same pass.
//
// Construction copies the weights (the caller may free its own). Run() is
// thread-safe; it creates and caches one oneDNN primitive per distinct row
// count, so steady-state calls do not allocate.
#pragma once

#include <cstdint>
#include <memory>

namespace mg::kernels {

enum class Activation { kNone, kGeluErf };

class PackedLinear {
 public:
  // `weight` is [out, in] row-major (PyTorch's nn.Linear layout); `bias` is
  // [out] or null.
  PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out,
               Activation activation = Activation::kNone);
  ~PackedLinear();
  PackedLinear(PackedLinear&&) noexcept;
  PackedLinear& operator=(PackedLinear&&) noexcept;
  PackedLinear(const PackedLinear&) = delete;
  PackedLinear& operator=(const PackedLinear&) = delete;

  // y[rows, out] = act(x[rows, in] W^T + b).
  void Run(const float* x, int64_t rows, float* y) const;

  int64_t in() const;
  int64_t out() const;
  // Bytes of packed weights and bias.
  size_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg::kernels
