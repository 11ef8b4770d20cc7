// LicencePolicy: the one place that answers what the served model's licence
// allows. Built from the served model (or a model id and its licence), it
// answers whether the terms hold at a given time (the licence names this
// model, and the time is inside its validity window), whether a feature is
// granted, and which request and token quotas the licence sets. The server
// asks it on every request and hands its quotas to the access gate (serve's
// MakeGate, which turns them into the control plane's limits); the batch
// commands ask it once, at start. The licence flows one way: release (this
// policy) → serve (routes, gates) → store (counters).
//
// Without a licence every feature is allowed and nothing is counted.
//
// Immutable after construction; the time is always passed in, so expiry is
// tested with any clock. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/output_policy.h"
#include "base/status.h"
#include "release/licence.h"
#include "release/served_model.h"

namespace mg::release {

// What a licence grants, by the names its `features` list uses.
enum class LicenceFeature {
  kNone,  // no particular feature: the terms alone
  kClassify,
  kEmbed,
  kRecommend,
};

// "classify", "embed", "recommend"; empty for kNone.
std::string_view LicenceFeatureName(LicenceFeature feature);

// The quotas a licence sets; 0 means unlimited.
struct LicenceQuotas {
  std::string licence_id;
  int64_t max_requests = 0;        // over the licence's life
  int64_t max_tokens_per_day = 0;  // per UTC calendar day
};

class LicencePolicy {
 public:
  // No licence: everything allowed, no quotas.
  LicencePolicy() = default;
  // `licence` (when set) governs the model `model_id`.
  LicencePolicy(std::string model_id, std::optional<Licence> licence);
  static LicencePolicy For(const ServedModel& served) {
    return LicencePolicy(served.model_id, served.licence);
  }

  // Null without a licence.
  const Licence* licence() const { return licence_ ? &*licence_ : nullptr; }

  // Ok when there is no licence, or when it names this model, `now` is
  // inside its validity window and it grants `feature` (kNone: any).
  // Otherwise the reason, e.g. `licence expired on 2026-01-31`.
  Status Check(LicenceFeature feature, std::chrono::sys_seconds now) const;

  // The licence's request and token quotas; nullopt when it sets none.
  // Values above INT64_MAX are held as INT64_MAX.
  const std::optional<LicenceQuotas>& quotas() const { return quotas_; }

  // What the licence lets replies show: the stricter of its "output:..."
  // features; full without a licence or without such a feature.
  const OutputPolicy& output_policy() const { return output_policy_; }

  // For commands that run the model outside the server (classify, embed):
  // Check(), and no quotas, since only the server counts them.
  Status CheckOutsideServer(LicenceFeature feature, std::chrono::sys_seconds now) const;

 private:
  std::string model_id_;
  std::optional<Licence> licence_;
  std::optional<LicenceQuotas> quotas_;
  OutputPolicy output_policy_;
};

}  // namespace mg::release
