// Output policies on the server: the policy in force for a request (the
// licence's, its key's and any tightened at run time, the stricter of all),
// the requests refused under it, and the helpers every formatter cuts its
// reply with. docs/serving.md, "Output policies".
#include <algorithm>

#include "base/json_writer.h"
#include "serve/call.h"
#include "serve/service.h"

namespace mg::serve {
namespace {

// What nothing may exceed: a policy no reply shows more than, used when a
// stored policy cannot be read (fail closed).
constexpr OutputPolicy kStrictest = {.top_k = 1, .scores = false, .embeddings = false};

ApiError Refusal(const OutputPolicy& policy, const std::string& what) {
  return {403, "output_policy", what + " (output policy: " + ToString(policy) + ")"};
}

}  // namespace

void Service::TightenOutputPolicy(std::string_view key_id, const OutputPolicy& policy) {
  std::lock_guard<std::mutex> lock(tightened_mutex_);
  auto it = tightened_.find(key_id);
  if (it == tightened_.end()) {
    tightened_.emplace(std::string(key_id), Normalized(policy));
  } else {
    it->second = Stricter(it->second, policy);
  }
}

void Service::ClearTightenedOutputPolicy(std::string_view key_id) {
  std::lock_guard<std::mutex> lock(tightened_mutex_);
  if (auto it = tightened_.find(key_id); it != tightened_.end()) tightened_.erase(it);
}

OutputPolicy Service::OutputPolicyFor(const Admission& authentication) const {
  OutputPolicy policy = licence_.output_policy();
  if (authentication.key) {
    auto stored = ParseOutputPolicy(authentication.key->output_policy);
    policy = Stricter(policy, stored.ok() ? *stored : kStrictest);
  }
  std::lock_guard<std::mutex> lock(tightened_mutex_);
  if (auto it = tightened_.find(authentication.key_id); it != tightened_.end()) {
    policy = Stricter(policy, it->second);
  }
  return policy;
}

std::optional<ApiError> Service::RefusedByOutputPolicy(const Call& call) const {
  const OutputPolicy& policy = call.output;
  switch (call.route->output) {
    case RouteOutput::kNone:
      return std::nullopt;
    case RouteOutput::kScores:
      // Raw logits say more than rounded probabilities (a label whose
      // probability rounds to 0 keeps a distinct logit): only with full scores.
      if (call.raw_scores && policy.restricts_scores()) {
        return Refusal(policy, "`raw_scores` is not available to this API key");
      }
      return std::nullopt;
    case RouteOutput::kEmbeddings:
      if (!policy.embeddings)
        return Refusal(policy, "embeddings are not available to this API key");
      return std::nullopt;
    case RouteOutput::kSimilarities:
      if (!policy.embeddings || !policy.scores) {
        return Refusal(policy, "similarity scores are not available to this API key");
      }
      return std::nullopt;
  }
  return std::nullopt;
}

size_t ShownLabels(const OutputPolicy& policy, size_t labels) {
  return policy.top_k > 0 ? std::min(labels, static_cast<size_t>(policy.top_k)) : labels;
}

void AppendPolicyScore(std::string* out, float score, const OutputPolicy& policy) {
  if (!policy.scores) {
    out->append("null");
    return;
  }
  AppendJsonFloat(out, RoundToDecimals(score, policy.score_decimals));
}

int64_t PolicyEmbeddingWidth(const OutputPolicy& policy, int64_t width) {
  return policy.embed_dims > 0 && policy.embed_dims < width ? policy.embed_dims : width;
}

void RoundEmbedding(const OutputPolicy& policy, float* row, int64_t width) {
  if (policy.embed_decimals < 0) return;
  for (int64_t c = 0; c < width; ++c) row[c] = RoundToDecimals(row[c], policy.embed_decimals);
}

}  // namespace mg::serve
