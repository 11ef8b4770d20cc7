// Tensor: a dense, row-major, 64-byte-aligned array with a shape and a dtype.
//
// A Tensor owns its storage (move-only). Resize() reuses capacity, so a
// workspace of tensors sized once at warm-up does not allocate again. Not
// thread-safe to mutate; safe to read from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "tensor/dtype.h"

namespace mg {

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> shape);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  // Sets the shape; reallocates only when the new size exceeds the capacity.
  // Contents are unspecified afterwards.
  void Resize(std::vector<int64_t> shape);
  // The same without building a vector: no allocation within capacity.
  void Resize(std::initializer_list<int64_t> shape);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_[axis]; }
  size_t rank() const { return shape_.size(); }
  size_t numel() const { return numel_; }
  size_t nbytes() const { return numel_ * DTypeSize(dtype_); }
  size_t capacity_bytes() const { return capacity_; }

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(storage_.get());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(storage_.get());
  }

  // A copy with the same dtype, shape and contents.
  Tensor Clone() const;

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
  size_t numel_ = 0;
  size_t capacity_ = 0;
  std::unique_ptr<uint8_t, FreeDeleter> storage_;
};

}  // namespace mg
