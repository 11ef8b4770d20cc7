// Licence quotas: the shared check, and the control plane's counters
// (tables licence_state and licence_daily, migration 2).
//
// Standalone reservations and settlements (serve --db --auth off) share the
// group-commit batcher of Admit and Finish; like theirs, they name the
// licence as the row to lock first, so each batch locks licence rows before
// any key's and batches on several replicas cannot deadlock.
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

// Creates the licence's state row if needed, locks it and returns its
// lifetime request count.
Result<int64_t> LockStateRow(SqlConnection& db, const std::string& licence_id) {
  MG_RETURN_IF_ERROR(db.Query("INSERT INTO licence_state (licence_id, requests) VALUES ($1, 0) "
                              "ON CONFLICT (licence_id) DO NOTHING",
                              {licence_id})
                         .status());
  MG_ASSIGN_OR_RETURN(SqlRows state, db.Query(std::string("SELECT requests FROM licence_state "
                                                          "WHERE licence_id = $1") +
                                                  ForUpdate(db.dialect()),
                                              {licence_id}));
  if (state.empty()) return InternalError("licence_state row missing for " + licence_id);
  return state[0].Int(0);
}

}  // namespace

Result<LicenceCounts> LockLicenceRow(SqlConnection& db, const std::string& licence_id,
                                     int64_t day_ms) {
  LicenceCounts counts;
  MG_ASSIGN_OR_RETURN(counts.requests, LockStateRow(db, licence_id));
  counts.day_ms = day_ms;
  MG_ASSIGN_OR_RETURN(SqlRows day, db.Query("SELECT tokens FROM licence_daily "
                                            "WHERE licence_id = $1 AND day_ms = $2",
                                            {licence_id, day_ms}));
  counts.day_tokens = day.empty() ? 0 : day[0].Int(0);
  return counts;
}

Status LockLicenceRows(SqlConnection& db, const std::vector<std::string>& licence_ids) {
  for (const std::string& id : licence_ids) MG_RETURN_IF_ERROR(LockStateRow(db, id).status());
  return Status::Ok();
}

Result<LicenceVerdict> ReserveInLockedLicence(SqlConnection& db, const LicenceLimits& limits,
                                              int64_t tokens, int64_t now_ms) {
  if (tokens < 0) tokens = 0;
  const int64_t day = PeriodStart("day", now_ms);
  const std::string& id = limits.licence_id;
  // The refusal, worded from the counts as they are.
  auto refusal = [&]() -> Result<LicenceVerdict> {
    MG_ASSIGN_OR_RETURN(LicenceCounts current, LockLicenceRow(db, id, day));
    LicenceVerdict verdict = CheckLicenceQuota(limits, current, tokens, now_ms);
    if (verdict.status == 200) return InternalError("licence " + id + " counts changed under lock");
    return verdict;
  };
  if (limits.max_tokens_per_day > 0 && tokens > limits.max_tokens_per_day) return refusal();
  // The limits are cast: PostgreSQL would otherwise type them as integer
  // from the comparison with 0, and refuse limits beyond 2^31.
  MG_ASSIGN_OR_RETURN(
      SqlRows state, db.Query("UPDATE licence_state SET requests = requests + 1 "
                              "WHERE licence_id = $1 AND (CAST($2 AS BIGINT) = 0 OR requests < $2) "
                              "RETURNING requests",
                              {id, limits.max_requests}));
  if (state.empty()) return refusal();
  MG_ASSIGN_OR_RETURN(
      SqlRows daily,
      db.Query("INSERT INTO licence_daily (licence_id, day_ms, requests, tokens) "
               "VALUES ($1, $2, 1, $3) ON CONFLICT (licence_id, day_ms) DO UPDATE SET "
               "requests = licence_daily.requests + 1, "
               "tokens = licence_daily.tokens + excluded.tokens "
               "WHERE CAST($4 AS BIGINT) = 0 OR licence_daily.tokens + excluded.tokens <= $4 "
               "RETURNING tokens",
               {id, day, tokens, limits.max_tokens_per_day}));
  if (daily.empty()) {
    MG_RETURN_IF_ERROR(
        db.Query("UPDATE licence_state SET requests = requests - 1 WHERE licence_id = $1", {id})
            .status());
    return refusal();
  }
  LicenceVerdict verdict;
  verdict.day_ms = day;
  verdict.counts = {state[0].Int(0), day, daily[0].Int(0)};
  return verdict;
}

Status AddToLicenceRows(SqlConnection& db, const std::string& licence_id, int64_t day_ms,
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

Result<LicenceVerdict> ControlPlane::ReserveLicence(const LicenceLimits& limits, int64_t tokens,
                                                    int64_t now_ms) {
  if (limits.licence_id.empty()) return InvalidArgumentError("licence id is empty");
  if (tokens < 0) tokens = 0;
  LicenceVerdict verdict;
  const Status status = batcher_.Run(
      limits.licence_id,
      [&](SqlConnection& db, std::vector<AuditEntry>&) -> Status {
        verdict = LicenceVerdict();
        MG_ASSIGN_OR_RETURN(verdict, ReserveInLockedLicence(db, limits, tokens, now_ms));
        return Status::Ok();
      },
      limits.licence_id);
  if (!status.ok()) return status;
  return verdict;
}

Status ControlPlane::SettleLicence(const std::string& licence_id, int64_t day_ms,
                                   int64_t reserved_tokens, int64_t tokens, bool succeeded) {
  if (!succeeded) tokens = 0;
  const int64_t request_delta = succeeded ? 0 : -1;
  const int64_t token_delta = tokens - reserved_tokens;
  if (request_delta == 0 && token_delta == 0) return Status::Ok();
  return batcher_.Run(
      licence_id,
      [&](SqlConnection& db, std::vector<AuditEntry>&) -> Status {
        return AddToLicenceRows(db, licence_id, day_ms, request_delta, token_delta);
      },
      licence_id);
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
