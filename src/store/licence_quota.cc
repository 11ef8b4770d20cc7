// Licence quotas: the shared check, and the control plane's counters
// (tables licence_state and licence_daily, migration 2).
//
// Reservations and settlements run through their own group-commit batcher:
// each of their transactions locks only its licence's licence_state row, so
// they never take a lock that Admit or Finish of an API key holds, and
// batches on several replicas cannot deadlock.
#include "store/licence_quota.h"

#include "store/control_plane.h"
#include "store/limits.h"

namespace mg::store {

LicenceVerdict CheckLicenceQuota(const LicenceLimits& limits, const LicenceCounts& current,
                                 int64_t tokens, int64_t now_ms) {
  LicenceVerdict verdict;
  const int64_t today = PeriodStart("day", now_ms);
  verdict.day_ms = today;
  verdict.counts.requests = current.requests;
  verdict.counts.day_ms = today;
  verdict.counts.day_tokens = current.day_ms == today ? current.day_tokens : 0;
  if (tokens < 0) tokens = 0;
  auto refuse = [&](std::string message, int retry_after_s) {
    verdict.status = 429;
    verdict.error_type = "licence_quota_exceeded";
    verdict.message = "the model's licence " + limits.licence_id + " " + std::move(message);
    verdict.retry_after_s = retry_after_s;
    return verdict;
  };
  if (limits.max_requests > 0 && verdict.counts.requests + 1 > limits.max_requests) {
    return refuse("allows " + std::to_string(limits.max_requests) +
                      " requests and all have been used; ask the vendor for a new licence",
                  0);
  }
  if (limits.max_tokens_per_day > 0) {
    if (tokens > limits.max_tokens_per_day) {
      return refuse("allows " + std::to_string(limits.max_tokens_per_day) +
                        " tokens per day; this request alone has " + std::to_string(tokens),
                    0);
    }
    if (verdict.counts.day_tokens + tokens > limits.max_tokens_per_day) {
      return refuse("allows " + std::to_string(limits.max_tokens_per_day) +
                        " tokens per day (UTC); " + std::to_string(verdict.counts.day_tokens) +
                        " are used today",
                    RetryAfterSeconds(now_ms, PeriodEnd("day", now_ms)));
    }
  }
  verdict.counts.requests += 1;
  verdict.counts.day_tokens += tokens;
  return verdict;
}

namespace {

// Creates the licence's row if needed and locks it; returns the counters.
Result<LicenceCounts> LockLicence(SqlConnection& db, const std::string& licence_id,
                                  int64_t day_ms) {
  MG_RETURN_IF_ERROR(db.Query("INSERT INTO licence_state (licence_id, requests) VALUES ($1, 0) "
                              "ON CONFLICT (licence_id) DO NOTHING",
                              {licence_id})
                         .status());
  MG_ASSIGN_OR_RETURN(SqlRows state, db.Query(std::string("SELECT requests FROM licence_state "
                                                          "WHERE licence_id = $1") +
                                                  ForUpdate(db.dialect()),
                                              {licence_id}));
  if (state.empty()) return InternalError("licence_state row missing for " + licence_id);
  LicenceCounts counts;
  counts.requests = state[0].Int(0);
  counts.day_ms = day_ms;
  MG_ASSIGN_OR_RETURN(SqlRows day, db.Query("SELECT tokens FROM licence_daily "
                                            "WHERE licence_id = $1 AND day_ms = $2",
                                            {licence_id, day_ms}));
  counts.day_tokens = day.empty() ? 0 : day[0].Int(0);
  return counts;
}

Status AddToLicence(SqlConnection& db, const std::string& licence_id, int64_t day_ms,
                    int64_t requests, int64_t tokens) {
  MG_RETURN_IF_ERROR(db.Query("UPDATE licence_state SET requests = requests + $2 "
                              "WHERE licence_id = $1",
                              {licence_id, requests})
                         .status());
  return db
      .Query(
          "INSERT INTO licence_daily (licence_id, day_ms, requests, tokens) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (licence_id, day_ms) DO UPDATE SET "
          "requests = licence_daily.requests + excluded.requests, "
          "tokens = licence_daily.tokens + excluded.tokens",
          {licence_id, day_ms, requests, tokens})
      .status();
}

}  // namespace

Result<LicenceVerdict> ControlPlane::ReserveLicence(const LicenceLimits& limits, int64_t tokens,
                                                    int64_t now_ms) {
  if (limits.licence_id.empty()) return InvalidArgumentError("licence id is empty");
  if (tokens < 0) tokens = 0;
  LicenceVerdict verdict;
  const Status status = licence_batcher_.Run(
      limits.licence_id, [&](SqlConnection& db, std::vector<AuditEntry>&) -> Status {
        verdict = LicenceVerdict();
        MG_ASSIGN_OR_RETURN(LicenceCounts current,
                            LockLicence(db, limits.licence_id, PeriodStart("day", now_ms)));
        verdict = CheckLicenceQuota(limits, current, tokens, now_ms);
        if (verdict.status != 200) return Status::Ok();
        return AddToLicence(db, limits.licence_id, verdict.day_ms, 1, tokens);
      });
  if (!status.ok()) return status;
  return verdict;
}

Status ControlPlane::SettleLicence(const std::string& licence_id, int64_t day_ms,
                                   int64_t reserved_tokens, int64_t tokens, bool succeeded) {
  if (!succeeded) tokens = 0;
  const int64_t request_delta = succeeded ? 0 : -1;
  const int64_t token_delta = tokens - reserved_tokens;
  if (request_delta == 0 && token_delta == 0) return Status::Ok();
  return licence_batcher_.Run(
      licence_id, [&](SqlConnection& db, std::vector<AuditEntry>&) -> Status {
        MG_RETURN_IF_ERROR(LockLicence(db, licence_id, day_ms).status());
        return AddToLicence(db, licence_id, day_ms, request_delta, token_delta);
      });
}

Result<LicenceCounts> ControlPlane::LicenceUsage(const std::string& licence_id, int64_t now_ms) {
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
  SqlConnection& db = *lease;
  LicenceCounts counts;
  counts.day_ms = PeriodStart("day", now_ms);
  MG_ASSIGN_OR_RETURN(SqlRows state, db.Query("SELECT requests FROM licence_state "
                                              "WHERE licence_id = $1",
                                              {licence_id}));
  if (!state.empty()) counts.requests = state[0].Int(0);
  MG_ASSIGN_OR_RETURN(SqlRows day, db.Query("SELECT tokens FROM licence_daily "
                                            "WHERE licence_id = $1 AND day_ms = $2",
                                            {licence_id, counts.day_ms}));
  if (!day.empty()) counts.day_tokens = day[0].Int(0);
  return counts;
}

}  // namespace mg::store
