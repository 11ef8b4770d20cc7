#include "release/licence_policy.h"

#include <algorithm>
#include <climits>

namespace mg::release {

std::string_view LicenceFeatureName(LicenceFeature feature) {
  switch (feature) {
    case LicenceFeature::kNone:
      return "";
    case LicenceFeature::kClassify:
      return "classify";
    case LicenceFeature::kEmbed:
      return "embed";
    case LicenceFeature::kRecommend:
      return "recommend";
  }
  return "";
}

LicencePolicy::LicencePolicy(std::string model_id, std::optional<Licence> licence)
    : model_id_(std::move(model_id)), licence_(std::move(licence)) {
  if (licence_) {
    for (const std::string& feature : licence_->features) {
      if (!feature.starts_with(kOutputFeaturePrefix)) continue;
      auto policy = ParseOutputPolicy(
          std::string_view(feature).substr(std::string_view(kOutputFeaturePrefix).size()));
      // A verified licence's features parse; any other fails closed.
      output_policy_ = Stricter(
          output_policy_,
          policy.ok() ? *policy : OutputPolicy{.top_k = 1, .scores = false, .embeddings = false});
    }
  }
  if (!licence_ || (!licence_->max_requests && !licence_->max_tokens_per_day)) return;
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  LicenceQuotas quotas;
  quotas.licence_id = licence_->licence_id;
  quotas.max_requests = static_cast<int64_t>(std::min(licence_->max_requests.value_or(0), kMax));
  quotas.max_tokens_per_day =
      static_cast<int64_t>(std::min(licence_->max_tokens_per_day.value_or(0), kMax));
  quotas_ = std::move(quotas);
}

Status LicencePolicy::Check(LicenceFeature feature, std::chrono::sys_seconds now) const {
  if (!licence_) return Status::Ok();
  LicenceRequirements need;
  need.model_id = model_id_;
  need.now = now;
  need.feature = std::string(LicenceFeatureName(feature));
  return CheckLicenceTerms(*licence_, need);
}

Status LicencePolicy::CheckOutsideServer(LicenceFeature feature,
                                         std::chrono::sys_seconds now) const {
  MG_RETURN_IF_ERROR(Check(feature, now));
  if (quotas_) {
    return InvalidArgumentError(
        "it limits requests or tokens, which only `modelgate serve` counts: serve the model "
        "(with --db to keep the counts) and send it requests");
  }
  return Status::Ok();
}

}  // namespace mg::release
