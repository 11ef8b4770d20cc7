// The verdict on a request and its outcome, as the control plane
// (ControlPlane::Admit, Finish) and the server's gates (serve/gate.h) pass
// them: one type for both, handed unchanged from admission to Finish.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>

#include "store/licence_quota.h"

namespace mg::store {

struct Admission {
  int status = 200;        // 200: admitted; else 401/403/429/503
  std::string error_type;  // e.g. "invalid_api_key", "rate_limit_exceeded"
  std::string message;     // human text, names the limit that was hit
  int retry_after_s = 0;   // for 429 and 503: the Retry-After header
  std::string key_id;      // who, for logs and metrics; never the secret
  std::string key_name;
  uint64_t reservation = 0;      // opaque, handed back to Finish; 0 when not admitted
  int64_t licence_day_ms = -1;   // the UTC day a licence reservation counts on; -1: none
  LicenceCounts licence_counts;  // after this request's reservation (or as found if refused)
  // With 503: what the database said, for the operator's log (never sent to
  // the client).
  std::string cause;
};

// What became of an admitted request, reported to Finish before its reply
// is sent.
struct Outcome {
  int status = 0;  // the reply's HTTP status
  int64_t tokens = 0;
  double latency_ms = 0;
};

}  // namespace mg::store
