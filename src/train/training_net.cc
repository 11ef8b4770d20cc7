#include "train/training_net.h"

#include <algorithm>

#include "base/status.h"
#include "train/classifier_net.h"
#include "train/modernbert_net.h"

namespace mg::train {

std::unique_ptr<TrainingNet> MakeTrainingNet(ParamLayout layout, NetOptions options) {
  if (layout.family == model::FamilyId::kModernBert)
    return std::make_unique<ModernBertNet>(std::move(layout), options);
  return std::make_unique<ClassifierNet>(std::move(layout), options);
}

Bf16Matrices::Bf16Matrices(kernels::GemmDtype dtype,
                           std::vector<std::pair<size_t, size_t>> matrices)
    : dtype_(dtype) {
  if (dtype_ == kernels::GemmDtype::kF32) return;
  matrices_ = std::move(matrices);
  std::sort(matrices_.begin(), matrices_.end());
  size_t total = 0;
  for (const auto& [offset, floats] : matrices_) {
    bf16_offsets_.push_back(total);
    total += floats;
  }
  weights_.resize(total);
}

void Bf16Matrices::Set(const float* params) {
  source_ = params;
  for (size_t i = 0; i < matrices_.size(); ++i)
    kernels::ToBf16Parallel(params + matrices_[i].first, static_cast<int64_t>(matrices_[i].second),
                            weights_.data() + bf16_offsets_[i]);
}

bool Bf16Matrices::IsSetFrom(const float* params) const {
  return dtype_ == kernels::GemmDtype::kF32 || source_ == params;
}

LinearPrecision Bf16Matrices::Precision(size_t offset) const {
  if (dtype_ == kernels::GemmDtype::kF32) return {};
  const auto it =
      std::lower_bound(matrices_.begin(), matrices_.end(), std::pair<size_t, size_t>{offset, 0});
  MG_CHECK_MSG(it != matrices_.end() && it->first == offset, "no bf16 copy of this weight");
  return {dtype_, weights_.data() + bf16_offsets_[it - matrices_.begin()]};
}

}  // namespace mg::train
