// StoreGate: the Gate of `modelgate serve --db`, backed by the control plane
// (store::ControlPlane): API keys checked first (read-only; a key nobody
// holds writes nothing), rate limits, quotas and budgets at admission; the ledger and audit entry
// of every admitted request before its reply is sent. A background thread releases reservations of
// requests that never finished (a crashed replica's), with a grace time well above the request
// timeout. Per-key counters (by key name, never the secret) are rendered for /metrics.
//
// Thread safety: Admit, Finish and MetricsText may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "serve/gate.h"
#include "serve/logger.h"
#include "store/control_plane.h"

namespace mg::serve {

struct StoreGateOptions {
  int64_t release_every_ms = 60'000;   // how often abandoned reservations are released
  int64_t release_grace_ms = 600'000;  // admitted longer ago than this and unfinished
  // The served model's licence quotas, counted in the same transactions as
  // the key's limits (ControlPlane::Admit); `licence_now_ms` is the licence
  // clock. Tokenisation and admin requests do not count.
  std::optional<store::LicenceLimits> licence;
  std::function<int64_t()> licence_now_ms;
};

class StoreGate final : public Gate {
 public:
  // `control_plane` and `logger` must outlive the gate.
  StoreGate(store::ControlPlane* control_plane, Logger* logger, StoreGateOptions options = {});
  ~StoreGate() override;

  Admission Authenticate(const GateRequest& request) override;
  Admission Admit(const GateRequest& request) override;
  Status Finish(const Admission& admission, const GateRequest& request,
                const Outcome& outcome) override;
  // An audit entry "extraction.alarm" on the key (its id, the signal, W,
  // the novelty fraction and the queries seen; never their text), then with
  // `suspend` the key revoked with that reason.
  Status RecordExtractionAlarm(const ExtractionAlarm& alarm, bool suspend) override;
  std::string MetricsText() const override;

 private:
  void ReleaseLoop(std::stop_token stop);
  // Logs a 503's cause and counts the verdict for /metrics; returns it.
  Admission Observe(const GateRequest& request, Admission admission);
  store::AdmitRequest ToStore(const GateRequest& request) const;

  store::ControlPlane* control_plane_;
  Logger* logger_;
  StoreGateOptions options_;
  struct KeyCounters {
    int64_t requests = 0, tokens = 0, refused = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, KeyCounters> per_key_;  // by key name
  // The licence's counts as last seen, and requests refused over it.
  std::atomic<int64_t> licence_requests_{0}, licence_day_tokens_{0}, licence_refused_{0};
  std::condition_variable_any wake_;
  std::jthread releaser_;  // last: stops and joins first
};

}  // namespace mg::serve
