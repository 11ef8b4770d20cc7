#include "tensor/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mg {

constexpr size_t kAlignment = 64;

void Tensor::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype) {
  Resize(std::move(shape));
}

void Tensor::Resize(std::vector<int64_t> shape) {
  size_t numel = 1;
  for (int64_t d : shape) numel *= static_cast<size_t>(d < 0 ? 0 : d);
  shape_ = std::move(shape);
  numel_ = numel;
  const size_t needed = numel * DTypeSize(dtype_);
  if (needed <= capacity_) return;
  const size_t rounded = (needed + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  storage_.reset(static_cast<uint8_t*>(p));
  capacity_ = rounded;
}

void Tensor::Resize(std::initializer_list<int64_t> shape) {
  if (shape.size() == shape_.size()) {
    size_t numel = 1;
    for (int64_t d : shape) numel *= static_cast<size_t>(d < 0 ? 0 : d);
    if (numel * DTypeSize(dtype_) <= capacity_) {
      std::copy(shape.begin(), shape.end(), shape_.begin());
      numel_ = numel;
      return;
    }
  }
  Resize(std::vector<int64_t>(shape));
}

Tensor Tensor::Clone() const {
  Tensor copy(dtype_, shape_);
  if (nbytes()) std::memcpy(copy.storage_.get(), storage_.get(), nbytes());
  return copy;
}

}  // namespace mg
