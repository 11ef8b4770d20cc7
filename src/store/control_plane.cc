#include "store/control_plane.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>

#include "base/env.h"
#include "store/api_key.h"
#include "store/limits.h"
#include "store/migrations.h"

namespace mg::store {
namespace {

// The key row, its counters (locked until the transaction ends) and the
// price of the route, in one round trip.
constexpr char kSelectKey[] =
    "SELECT k.id, k.name, k.hash, k.scopes, k.rpm, k.tpm, k.quota_tokens, k.budget_micro_usd, "
    "k.quota_period, k.expires_ms, k.revoked_ms, s.minute_ms, s.minute_requests, "
    "s.minute_tokens, s.period_ms, s.period_tokens, s.period_micro_usd, "
    "COALESCE(p.micro_usd_per_1k, 0) "
    "FROM api_keys k JOIN key_state s ON s.key_id = k.id "
    "LEFT JOIN route_prices p ON p.route = $2 WHERE k.hash = $1";

Admission Reject(int status, std::string error_type, std::string message, int retry_after_s = 0) {
  Admission admission;
  admission.status = status;
  admission.error_type = std::move(error_type);
  admission.message = std::move(message);
  admission.retry_after_s = retry_after_s;
  return admission;
}

Admission Unavailable() {
  return Reject(503, "service_unavailable",
                "the control-plane database is unavailable; the request was not processed", 1);
}

std::string FormatUsd(int64_t micro_usd) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%.6f", static_cast<double>(micro_usd) / 1e6);
  return buffer;
}

bool HasScope(const std::string& scopes, std::string_view scope) {
  return scopes.find("," + std::string(scope) + ",") != std::string::npos;
}

// Why the key of `key` (a kSelectKey row) may not make a request of `scope`
// at `now`: revoked, expired or lacking the scope; nullopt if it may.
std::optional<Admission> KeyRefusal(const SqlRow& key, int64_t now, std::string_view scope) {
  const std::string name = key.Text(1);
  std::optional<Admission> refused;
  if (key.Int(10) != 0) {
    refused = Reject(401, "invalid_api_key", "API key '" + name + "' has been revoked");
  } else if (key.Int(9) != 0 && now >= key.Int(9)) {
    refused = Reject(401, "invalid_api_key",
                     "API key '" + name + "' expired at " + FormatUtc(key.Int(9)));
  } else if (!HasScope(key.Text(3), scope)) {
    refused = Reject(403, "insufficient_scope",
                     "API key '" + name + "' lacks the '" + std::string(scope) + "' scope");
  }
  if (refused) {
    refused->key_id = key.Text(0);
    refused->key_name = name;
  }
  return refused;
}

Admission MalformedKey() {
  return Reject(401, "invalid_api_key",
                "malformed API key: expected mg_ followed by 43 base64url characters");
}

Admission UnknownKey() { return Reject(401, "invalid_api_key", "unknown API key"); }

}  // namespace

ControlPlane::ControlPlane(ConnectionFactory factory, int pool_size, ControlPlaneOptions options)
    : options_(std::move(options)),
      now_ms_(options_.now_ms ? options_.now_ms : MillisecondsClock(Env::Default())),
      pool_(factory, pool_size),
      read_pool_(std::move(factory), 4),
      batcher_(&pool_, options_.max_batch < 1 ? 1 : options_.max_batch, audit_signer(),
               LockLicenceRows) {}

Result<std::unique_ptr<ControlPlane>> ControlPlane::Open(const std::string& url,
                                                         ControlPlaneOptions options) {
  ConnectionFactory factory = options.connection_factory;
  if (!factory) factory = [url] { return OpenConnection(url); };
  // Fail early on a bad URL or an unreachable database, and migrate.
  MG_ASSIGN_OR_RETURN(std::unique_ptr<SqlConnection> first, factory());
  MG_RETURN_IF_ERROR(ApplyMigrations(*first));
  const bool sqlite = first->dialect() == Dialect::kSqlite;
  int pool_size = options.pool_size;
  if (pool_size <= 0) pool_size = sqlite ? 1 : 8;
  first.reset();
  const bool background_checkpoint = sqlite && options.sqlite_background_checkpoint;
  ConnectionFactory pool_factory = factory;
  if (background_checkpoint) {
    pool_factory = [factory]() -> Result<std::unique_ptr<SqlConnection>> {
      MG_ASSIGN_OR_RETURN(std::unique_ptr<SqlConnection> db, factory());
      MG_RETURN_IF_ERROR(db->ExecScript("PRAGMA wal_autocheckpoint = 0"));
      return db;
    };
  }
  std::unique_ptr<ControlPlane> cp(
      new ControlPlane(std::move(pool_factory), pool_size, std::move(options)));
  if (background_checkpoint) {
    cp->checkpointer_ = std::jthread([plane = cp.get(), factory](std::stop_token stop) {
      plane->CheckpointLoop(stop, factory);
    });
  }
  return cp;
}

void ControlPlane::CheckpointLoop(std::stop_token stop, ConnectionFactory factory) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_ptr<SqlConnection> db;
  while (!stop.stop_requested()) {
    if (db == nullptr) {
      auto opened = factory();
      if (opened.ok()) db = std::move(opened).value();
    }
    // A failed checkpoint (disk full, file gone) is retried; the next
    // request reports the problem if it persists.
    if (db != nullptr && !db->ExecScript("PRAGMA wal_checkpoint(PASSIVE)").ok()) db.reset();
    std::unique_lock lock(mutex);
    wake.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
  }
}

Status ControlPlane::AuditAction(SqlConnection& db, std::vector<AuditCheckpoint>& signed_out,
                                 std::string_view actor, std::string_view action,
                                 std::string_view target, std::string_view detail) {
  AuditEntry entry;
  entry.ts_ms = now_ms_();
  entry.actor = actor;
  entry.action = action;
  entry.target = target;
  entry.detail = detail;
  return AppendAudit(db, entry, audit_signer(), &signed_out);
}

Admission ControlPlane::Authenticate(const AdmitRequest& request) {
  if (!IsWellFormedApiKey(request.api_key)) return MalformedKey();
  const std::string hash = HashApiKey(request.api_key);
  const int64_t now = now_ms_();
  std::optional<Admission> refused;
  Status status = [&]() -> Status {
    MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
    MG_ASSIGN_OR_RETURN(SqlRows rows, lease->Query(kSelectKey, {hash, std::string(request.route)}));
    if (rows.empty() || !ConstantTimeEquals(rows[0].Text(2), hash)) {
      refused = UnknownKey();
      return Status::Ok();
    }
    refused = KeyRefusal(rows[0], now, request.scope);
    if (!refused) {
      Admission admitted;
      admitted.key_id = rows[0].Text(0);
      admitted.key_name = rows[0].Text(1);
      refused = std::move(admitted);  // status 200: the key may go on to Admit
    }
    return Status::Ok();
  }();
  // A refusal of a known key is audited, in one write transaction, as Admit
  // would have; a key nobody holds leaves no row.
  if (status.ok() && refused->status != 200 && !refused->key_name.empty()) {
    AuditEntry entry;
    entry.ts_ms = now;
    entry.actor = refused->key_name;
    entry.action = "request";
    entry.target = std::string(request.request_id);
    entry.route = std::string(request.route);
    entry.status = refused->status;
    entry.detail = refused->error_type;
    status = batcher_.Run(hash, [&](SqlConnection&, std::vector<AuditEntry>& audit) {
      audit.push_back(entry);
      return Status::Ok();
    });
  }
  if (!status.ok()) {
    Admission unavailable = Unavailable();
    unavailable.cause = status.ToString();
    return unavailable;
  }
  return std::move(*refused);
}

Admission ControlPlane::Admit(const AdmitRequest& request) {
  // A key nobody holds costs no transaction and leaves no row.
  if (!IsWellFormedApiKey(request.api_key)) return MalformedKey();
  const int64_t now = now_ms_();
  const std::string hash = HashApiKey(request.api_key);
  Admission admission;
  // Runs inside a batch transaction; may run twice (see CommitBatcher), so
  // it starts from a clean admission. Audits a rejection inside the transaction; the transaction
  // commits so that the audit entry stays.
  auto reject = [&](std::vector<AuditEntry>& audit, const std::string& actor,
                    Admission rejected) -> Status {
    admission = std::move(rejected);
    AuditEntry entry;
    entry.ts_ms = now;
    entry.actor = actor;
    entry.action = "request";
    entry.target = std::string(request.request_id);
    entry.route = std::string(request.route);
    entry.status = admission.status;
    entry.detail = admission.error_type;
    audit.push_back(std::move(entry));
    return Status::Ok();
  };
  const CommitBatcher::Op op = [&](SqlConnection& db, std::vector<AuditEntry>& audit) -> Status {
    admission = Admission();
    MG_ASSIGN_OR_RETURN(SqlRows rows,
                        db.Query(std::string(kSelectKey) +
                                     (db.dialect() == Dialect::kPostgres ? " FOR UPDATE OF s" : ""),
                                 {hash, std::string(request.route)}));
    if (rows.empty() || !ConstantTimeEquals(rows[0].Text(2), hash)) {
      admission = UnknownKey();  // not audited: see Authenticate
      return Status::Ok();
    }
    const SqlRow& key = rows[0];
    const std::string key_id = key.Text(0);
    const std::string name = key.Text(1);
    admission.key_id = key_id;
    admission.key_name = name;
    auto reject_key = [&](Admission rejected) {
      rejected.key_id = key_id;
      rejected.key_name = name;
      return reject(audit, name, std::move(rejected));
    };
    if (auto refused = KeyRefusal(key, now, request.scope)) return reject_key(std::move(*refused));
    const int64_t per_1k = key.Int(17);
    const int64_t tokens = request.tokens < 0 ? 0 : request.tokens;
    const int64_t cost = CostMicroUsd(tokens, per_1k);

    const int64_t minute = MinuteStart(now);
    const std::string period_kind = key.Text(8);
    const int64_t period = PeriodStart(period_kind, now);
    const bool same_minute = key.Int(11) == minute;
    const bool same_period = key.Int(14) == period;
    const int64_t minute_requests = same_minute ? key.Int(12) : 0;
    const int64_t minute_tokens = same_minute ? key.Int(13) : 0;
    const int64_t period_tokens = same_period ? key.Int(15) : 0;
    const int64_t period_cost = same_period ? key.Int(16) : 0;
    const int64_t rpm = key.Int(4), tpm = key.Int(5), quota = key.Int(6), budget = key.Int(7);
    const int minute_retry = RetryAfterSeconds(now, minute + kMinuteMs);
    const int period_retry = RetryAfterSeconds(now, PeriodEnd(period_kind, now));
    const std::string who = "key '" + name + "': ";
    if (rpm > 0 && minute_requests + 1 > rpm) {
      return reject_key(Reject(
          429, "rate_limit_exceeded",
          who + "requests-per-minute limit of " + std::to_string(rpm) + " reached", minute_retry));
    }
    if (tpm > 0 && minute_tokens + tokens > tpm) {
      return reject_key(Reject(429, "rate_limit_exceeded",
                               who + "tokens-per-minute limit of " + std::to_string(tpm) +
                                   " would be exceeded by " + std::to_string(tokens) + " tokens",
                               minute_retry));
    }
    if (quota > 0 && period_tokens + tokens > quota) {
      return reject_key(Reject(429, "insufficient_quota",
                               who + "token quota of " + std::to_string(quota) + " per " +
                                   period_kind + " is used up (" + std::to_string(period_tokens) +
                                   " used)",
                               period_retry));
    }
    if (budget > 0 && period_cost + cost > budget) {
      return reject_key(
          Reject(429, "insufficient_quota",
                 who + "budget of " + FormatUsd(budget) + " USD per " + period_kind + " is spent",
                 period_retry));
    }
    if (request.licence != nullptr) {
      // The licence's row is already locked (CommitBatcher's lock_first).
      MG_ASSIGN_OR_RETURN(
          const LicenceVerdict verdict,
          ReserveInLockedLicence(db, *request.licence, tokens, request.licence_now_ms));
      if (verdict.status != 200) {
        Admission refused =
            Reject(verdict.status, verdict.error_type, verdict.message, verdict.retry_after_s);
        refused.licence_counts = verdict.counts;
        return reject_key(std::move(refused));
      }
      admission.licence_day_ms = verdict.day_ms;
      admission.licence_counts = verdict.counts;
    }
    MG_RETURN_IF_ERROR(
        db.Query("UPDATE key_state SET minute_ms = $2, minute_requests = $3, minute_tokens = $4, "
                 "period_ms = $5, period_tokens = $6, period_micro_usd = $7 WHERE key_id = $1",
                 {key_id, minute, minute_requests + 1, minute_tokens + tokens, period,
                  period_tokens + tokens, period_cost + cost})
            .status());
    MG_ASSIGN_OR_RETURN(
        SqlRows inserted,
        db.Query("INSERT INTO usage_ledger (request_id, key_id, route, admitted_ms, minute_ms, "
                 "period_ms, reserved_tokens, reserved_micro_usd, micro_usd_per_1k) VALUES "
                 "($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                 {std::string(request.request_id), key_id, std::string(request.route), now, minute,
                  period, tokens, cost, per_1k}));
    if (inserted.empty()) return InternalError("usage_ledger insert returned no id");
    admission.reservation = static_cast<uint64_t>(inserted[0].Int(0));
    return Status::Ok();
  };
  const std::string licence_id = request.licence ? request.licence->licence_id : std::string();
  const Status status = batcher_.Run(hash, op, licence_id);
  if (!status.ok()) {
    Admission unavailable = Unavailable();
    unavailable.cause = status.ToString();
    return unavailable;
  }
  return admission;
}

Status ControlPlane::Finish(const Admission& admission, const AdmitRequest& request,
                            const Outcome& outcome) {
  if (admission.status != 200 || admission.reservation == 0) return Status::Ok();
  const int64_t now = now_ms_();
  const int64_t id = static_cast<int64_t>(admission.reservation);
  const int64_t tokens = outcome.tokens < 0 ? 0 : outcome.tokens;
  const std::string order_key =
      IsWellFormedApiKey(request.api_key) ? HashApiKey(request.api_key) : std::string();
  const bool licensed = request.licence != nullptr && admission.licence_day_ms >= 0;
  const std::string licence_id = licensed ? request.licence->licence_id : std::string();
  const auto op = [&](SqlConnection& db, std::vector<AuditEntry>& audit) -> Status {
    MG_ASSIGN_OR_RETURN(
        SqlRows rows,
        db.Query(std::string("SELECT key_id, route, admitted_ms, minute_ms, period_ms, "
                             "reserved_tokens, reserved_micro_usd, micro_usd_per_1k, status "
                             "FROM usage_ledger WHERE id = $1") +
                     ForUpdate(db.dialect()),
                 {id}));
    if (rows.empty()) return NotFoundError("no reservation " + std::to_string(id));
    const SqlRow& row = rows[0];
    if (row.Int(8) != 0) return Status::Ok();  // already finished: count once
    const std::string key_id = row.Text(0);
    const int64_t cost = CostMicroUsd(tokens, row.Int(7));
    const int status = outcome.status == 0 ? 500 : outcome.status;
    MG_RETURN_IF_ERROR(db.Query("UPDATE usage_ledger SET status = $2, tokens = $3, micro_usd = $4, "
                                "latency_ms = $5, finished_ms = $6 WHERE id = $1",
                                {id, int64_t{status}, tokens, cost, outcome.latency_ms, now})
                           .status());
    const int64_t token_delta = tokens - row.Int(5);
    const int64_t cost_delta = cost - row.Int(6);
    if (licensed) {
      // A request that did not succeed gives back its licence request and
      // tokens; one that did counts what it used instead of the reserved.
      const bool succeeded = status < 400;
      const int64_t licence_tokens = (succeeded ? tokens : 0) - row.Int(5);
      if (!succeeded || licence_tokens != 0) {
        MG_RETURN_IF_ERROR(AddToLicenceRows(db, licence_id, admission.licence_day_ms,
                                            succeeded ? 0 : -1, licence_tokens));
      }
    }
    // Always, even with nothing to correct: the key's counters row is the
    // first lock every Admit and Finish of the key takes (see CommitBatcher).
    MG_RETURN_IF_ERROR(
        db.Query("UPDATE key_state SET "
                 "minute_tokens = minute_tokens + CASE WHEN minute_ms = $2 THEN $3 ELSE 0 END, "
                 "period_tokens = period_tokens + CASE WHEN period_ms = $4 THEN $3 ELSE 0 END, "
                 "period_micro_usd = period_micro_usd + "
                 "CASE WHEN period_ms = $4 THEN $5 ELSE 0 END WHERE key_id = $1",
                 {key_id, row.Int(3), token_delta, row.Int(4), cost_delta})
            .status());
    MG_RETURN_IF_ERROR(
        db.Query("INSERT INTO usage_hourly (key_id, route, hour_ms, requests, errors, tokens, "
                 "micro_usd, latency_ms_sum) VALUES ($1, $2, $3, 1, $4, $5, $6, $7) "
                 "ON CONFLICT (key_id, route, hour_ms) DO UPDATE SET "
                 "requests = usage_hourly.requests + 1, "
                 "errors = usage_hourly.errors + excluded.errors, "
                 "tokens = usage_hourly.tokens + excluded.tokens, "
                 "micro_usd = usage_hourly.micro_usd + excluded.micro_usd, "
                 "latency_ms_sum = usage_hourly.latency_ms_sum + excluded.latency_ms_sum",
                 {key_id, row.Text(1), HourStart(row.Int(2)), int64_t{status >= 400 ? 1 : 0},
                  tokens, cost, outcome.latency_ms})
            .status());
    AuditEntry entry;
    entry.ts_ms = now;
    entry.actor = admission.key_name;
    entry.action = "request";
    entry.target = std::string(request.request_id);
    entry.route = row.Text(1);
    entry.status = status;
    entry.tokens = tokens;
    audit.push_back(std::move(entry));
    return Status::Ok();
  };
  return batcher_.Run(order_key, op, licence_id);
}

}  // namespace mg::store
