// The rows the control plane reads per request, decoded into named fields:
// a key with its limits, its counters (key_state) and the price of the
// route, as one SELECT returns them (kSelectKey).
//
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sql.h"

namespace mg::store {

// A key's usage in its current windows (table key_state).
struct KeyCounters {
  int64_t minute_ms = 0;  // start of the minute the minute counts are for
  int64_t minute_requests = 0;
  int64_t minute_tokens = 0;
  int64_t period_ms = 0;  // start of the quota period the period counts are for
  int64_t period_tokens = 0;
  int64_t period_micro_usd = 0;
};

// A key (table api_keys), its counters and the requested route's price.
struct KeyRow {
  std::string id, name, hash;
  std::string scopes;  // ",embed,classify," (comma on both sides of each)
  int64_t rpm = 0, tpm = 0, quota_tokens = 0, budget_micro_usd = 0;  // 0 = unlimited
  std::string quota_period;                                          // "day" or "month"
  int64_t expires_ms = 0;                                            // 0 = never
  int64_t revoked_ms = 0;                                            // 0 = active
  KeyCounters counters;
  int64_t micro_usd_per_1k = 0;  // price of the route; 0 when none is set
  // What the key's replies may show: the canonical compact form of
  // base/output_policy.h ("full" for keys created before it existed).
  std::string output_policy = "full";
};

// The key with hash $1, its counters and the price of route $2; one row or
// none.
inline constexpr char kSelectKey[] =
    "SELECT k.id, k.name, k.hash, k.scopes, k.rpm, k.tpm, k.quota_tokens, k.budget_micro_usd, "
    "k.quota_period, k.expires_ms, k.revoked_ms, s.minute_ms, s.minute_requests, "
    "s.minute_tokens, s.period_ms, s.period_tokens, s.period_micro_usd, "
    "COALESCE(p.micro_usd_per_1k, 0), k.output_policy "
    "FROM api_keys k JOIN key_state s ON s.key_id = k.id "
    "LEFT JOIN route_prices p ON p.route = $2 WHERE k.hash = $1";

// Decodes a kSelectKey row; an error when it has not kSelectKey's columns.
Result<KeyRow> DecodeKeyRow(const SqlRow& row);

// The usage `counters` stand for at `now_ms`: counts of a minute or period
// that has ended are zero (and the windows moved to the current ones).
KeyCounters CurrentWindows(const KeyCounters& counters, std::string_view quota_period,
                           int64_t now_ms);

}  // namespace mg::store
