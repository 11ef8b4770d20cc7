#include "store/key_row.h"

#include "store/limits.h"

namespace mg::store {

Result<KeyRow> DecodeKeyRow(const SqlRow& row) {
  constexpr size_t kColumns = 19;
  if (row.columns.size() != kColumns) {
    return InternalError("key row has " + std::to_string(row.columns.size()) + " columns, not " +
                         std::to_string(kColumns));
  }
  KeyRow key;
  key.id = row.Text(0);
  key.name = row.Text(1);
  key.hash = row.Text(2);
  key.scopes = row.Text(3);
  key.rpm = row.Int(4);
  key.tpm = row.Int(5);
  key.quota_tokens = row.Int(6);
  key.budget_micro_usd = row.Int(7);
  key.quota_period = row.Text(8);
  key.expires_ms = row.Int(9);
  key.revoked_ms = row.Int(10);
  key.counters.minute_ms = row.Int(11);
  key.counters.minute_requests = row.Int(12);
  key.counters.minute_tokens = row.Int(13);
  key.counters.period_ms = row.Int(14);
  key.counters.period_tokens = row.Int(15);
  key.counters.period_micro_usd = row.Int(16);
  key.micro_usd_per_1k = row.Int(17);
  key.output_policy = row.Text(18);
  return key;
}

KeyCounters CurrentWindows(const KeyCounters& counters, std::string_view quota_period,
                           int64_t now_ms) {
  KeyCounters current;
  current.minute_ms = MinuteStart(now_ms);
  current.period_ms = PeriodStart(quota_period, now_ms);
  if (counters.minute_ms == current.minute_ms) {
    current.minute_requests = counters.minute_requests;
    current.minute_tokens = counters.minute_tokens;
  }
  if (counters.period_ms == current.period_ms) {
    current.period_tokens = counters.period_tokens;
    current.period_micro_usd = counters.period_micro_usd;
  }
  return current;
}

}  // namespace mg::store
