// The verdict on a request and its outcome, as the control plane
// (ControlPlane::Admit, Finish) and the server's gates (serve/gate.h) pass
// them: one type for both, handed unchanged from admission to Finish.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/key_row.h"
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
  // Authenticate's 200: the key row it read, for Admit of the same request
  // (AdmitRequest::key), so that a request reads its key once.
  std::optional<KeyRow> key;
};

// What became of an admitted request, reported to Finish before its reply
// is sent.
struct Outcome {
  int status = 0;  // the reply's HTTP status
  int64_t tokens = 0;
  double latency_ms = 0;
};

}  // namespace mg::store
