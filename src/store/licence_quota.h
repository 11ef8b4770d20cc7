// Licence quotas: the request and token limits a vendor's licence puts on a
// deployment (release/licence.h: max_requests over the licence's life,
// max_tokens_per_day per UTC day). The counters are kept per licence id, so
// every replica serving the same licence shares them when they live in the
// control plane (ControlPlane::ReserveLicence), or in one process when there
// is none (serve's in-memory counter, which uses the same check).
//
// A request reserves one request and its tokens before inference; once its
// reply is known the reservation is settled: a failed request gives both
// back, a finished one corrects the tokens to what it used.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sql.h"

namespace mg::store {

struct LicenceLimits {
  std::string licence_id;
  int64_t max_requests = 0;        // over the licence's life; 0 = unlimited
  int64_t max_tokens_per_day = 0;  // per UTC calendar day; 0 = unlimited
};

// What has been counted so far.
struct LicenceCounts {
  int64_t requests = 0;    // over the licence's life
  int64_t day_ms = 0;      // start of the UTC day of day_tokens
  int64_t day_tokens = 0;  // tokens counted on that day
};

struct LicenceVerdict {
  int status = 200;  // 200: reserved; 429: a limit would be exceeded
  std::string error_type;
  std::string message;    // names the limit
  int retry_after_s = 0;  // until the next UTC day, for the daily limit
  int64_t day_ms = 0;     // the day the tokens were reserved on
  LicenceCounts counts;   // after the reservation (or as found, when refused)
};

inline bool HasLicenceLimits(const LicenceLimits& limits) {
  return limits.max_requests > 0 || limits.max_tokens_per_day > 0;
}

// Whether one more request of `tokens` fits `limits` given `current` (whose
// day_tokens count only when current.day_ms is the day of `now_ms`). On
// success the returned counts include the request.
LicenceVerdict CheckLicenceQuota(const LicenceLimits& limits, const LicenceCounts& current,
                                 int64_t tokens, int64_t now_ms);

// The control plane's licence rows (tables licence_state, licence_daily),
// inside the caller's write transaction:
// creates the licence's row if needed, locks it and returns its counts on
// the day starting at `day_ms`;
Result<LicenceCounts> LockLicenceRow(SqlConnection& db, const std::string& licence_id,
                                     int64_t day_ms);
// the same for several licences, without reading (sorted ids: the lock order);
Status LockLicenceRows(SqlConnection& db, const std::vector<std::string>& licence_ids);
// reserves one request of `tokens` on the UTC day of `now_ms` in a licence
// whose row this transaction already locked (LockLicenceRows), in two
// conditional statements, or returns the refusal (nothing changed then);
Result<LicenceVerdict> ReserveInLockedLicence(SqlConnection& db, const LicenceLimits& limits,
                                              int64_t tokens, int64_t now_ms);
// adds to the licence's lifetime requests and to its day's requests and tokens.
Status AddToLicenceRows(SqlConnection& db, const std::string& licence_id, int64_t day_ms,
                        int64_t requests, int64_t tokens);

}  // namespace mg::store
