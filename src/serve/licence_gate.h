// LicenceGate: enforces the quotas of the served model's licence
// (max_requests over its life, max_tokens_per_day per UTC day) in front of
// another gate that does not count them itself (without --db, or with
// --auth off; StoreGate counts them in its own transactions). A request is first admitted by the
// inner gate (API key, scopes, the key's own limits), then reserves one request and its tokens on
// the licence's counters; a request over the licence is refused with 429 "licence_quota_exceeded"
// and reported to the inner gate as such, so the key's ledger and the audit trail show it. Once the
// reply is known the licence reservation is settled (a failed request gives it back) and the inner
// gate finishes.
//
// The counters live in the control plane when the server has one (shared by
// every replica on the database, kept across restarts), in this process
// otherwise (they start from zero with each start). /tokenize and admin
// requests do not count.
//
// Thread safety: Admit, Finish and MetricsText may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "serve/gate.h"
#include "store/control_plane.h"
#include "store/licence_quota.h"

namespace mg::serve {

// Whether a request counts towards the licence's quotas: as its route says
// (RouteSpec::licence_quota, found by the route's name): inference and
// recommendation do; /tokenize, catalogue changes and admin requests do not.
bool CountsTowardsLicence(const GateRequest& request);

// Prometheus gauges of the licence's quotas and of its counts as last seen.
void AppendLicenceMetrics(const store::LicenceLimits& limits, int64_t requests_used,
                          int64_t tokens_used_today, int64_t refused, std::string* out);

// Where the licence's counters are kept.
class LicenceCounter {
 public:
  virtual ~LicenceCounter() = default;
  // An error: the counters cannot be reached (the request gets 503).
  virtual Result<store::LicenceVerdict> Reserve(const store::LicenceLimits& limits, int64_t tokens,
                                                int64_t now_ms) = 0;
  virtual Status Settle(const store::LicenceLimits& limits, int64_t day_ms, int64_t reserved_tokens,
                        int64_t tokens, bool succeeded) = 0;
};

// In this process only.
class MemoryLicenceCounter final : public LicenceCounter {
 public:
  Result<store::LicenceVerdict> Reserve(const store::LicenceLimits& limits, int64_t tokens,
                                        int64_t now_ms) override;
  Status Settle(const store::LicenceLimits& limits, int64_t day_ms, int64_t reserved_tokens,
                int64_t tokens, bool succeeded) override;

 private:
  std::mutex mutex_;
  store::LicenceCounts counts_;  // guarded by mutex_
};

// In the control plane's database; `control_plane` must outlive this.
class StoreLicenceCounter final : public LicenceCounter {
 public:
  explicit StoreLicenceCounter(store::ControlPlane* control_plane)
      : control_plane_(control_plane) {}
  Result<store::LicenceVerdict> Reserve(const store::LicenceLimits& limits, int64_t tokens,
                                        int64_t now_ms) override {
    return control_plane_->ReserveLicence(limits, tokens, now_ms);
  }
  Status Settle(const store::LicenceLimits& limits, int64_t day_ms, int64_t reserved_tokens,
                int64_t tokens, bool succeeded) override {
    return control_plane_->SettleLicence(limits.licence_id, day_ms, reserved_tokens, tokens,
                                         succeeded);
  }

 private:
  store::ControlPlane* control_plane_;
};

class LicenceGate final : public Gate {
 public:
  // `now_ms` is the licence clock (the one expiry is checked against).
  LicenceGate(std::unique_ptr<Gate> inner, store::LicenceLimits limits,
              std::unique_ptr<LicenceCounter> counter, std::function<int64_t()> now_ms);

  Admission Authenticate(const GateRequest& request) override {
    return inner_->Authenticate(request);
  }
  Admission Admit(const GateRequest& request) override;
  Status Finish(const Admission& admission, const GateRequest& request,
                const Outcome& outcome) override;
  // The inner gate's, then the licence's limits and the counts last seen.
  std::string MetricsText() const override;

 private:
  std::unique_ptr<Gate> inner_;
  const store::LicenceLimits limits_;
  std::unique_ptr<LicenceCounter> counter_;
  std::function<int64_t()> now_ms_;
  std::atomic<int64_t> seen_requests_{0}, seen_day_tokens_{0}, refused_{0};
};

}  // namespace mg::serve
