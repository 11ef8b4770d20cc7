#include "store/control_plane.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>

#include "base/env.h"
#include "store/api_key.h"
#include "store/key_row.h"
#include "store/limits.h"
#include "store/migrations.h"

namespace mg::store {
namespace {

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

// Check the key: why `key` may not make a request of `scope` at `now`
// (revoked, expired or lacking the scope); nullopt if it may.
std::optional<Admission> CheckKey(const KeyRow& key, int64_t now, std::string_view scope) {
  std::optional<Admission> refused;
  if (key.revoked_ms != 0) {
    refused = Reject(401, "invalid_api_key", "API key '" + key.name + "' has been revoked");
  } else if (key.expires_ms != 0 && now >= key.expires_ms) {
    refused = Reject(401, "invalid_api_key",
                     "API key '" + key.name + "' expired at " + FormatUtc(key.expires_ms));
  } else if (!HasScope(key.scopes, scope)) {
    refused = Reject(403, "insufficient_scope",
                     "API key '" + key.name + "' lacks the '" + std::string(scope) + "' scope");
  }
  if (refused) {
    refused->key_id = key.id;
    refused->key_name = key.name;
  }
  return refused;
}

// Check the limits: why one more request of `tokens` costing `cost` does not
// fit the key's limits given its `usage` in the current windows (see
// CurrentWindows); nullopt if it fits.
std::optional<Admission> CheckLimits(const KeyRow& key, const KeyCounters& usage, int64_t tokens,
                                     int64_t cost, int64_t now) {
  const int minute_retry = RetryAfterSeconds(now, usage.minute_ms + kMinuteMs);
  const int period_retry = RetryAfterSeconds(now, PeriodEnd(key.quota_period, now));
  const std::string who = "key '" + key.name + "': ";
  if (key.rpm > 0 && usage.minute_requests + 1 > key.rpm) {
    return Reject(429, "rate_limit_exceeded",
                  who + "requests-per-minute limit of " + std::to_string(key.rpm) + " reached",
                  minute_retry);
  }
  if (key.tpm > 0 && usage.minute_tokens + tokens > key.tpm) {
    return Reject(429, "rate_limit_exceeded",
                  who + "tokens-per-minute limit of " + std::to_string(key.tpm) +
                      " would be exceeded by " + std::to_string(tokens) + " tokens",
                  minute_retry);
  }
  if (key.quota_tokens > 0 && usage.period_tokens + tokens > key.quota_tokens) {
    return Reject(429, "insufficient_quota",
                  who + "token quota of " + std::to_string(key.quota_tokens) + " per " +
                      key.quota_period + " is used up (" + std::to_string(usage.period_tokens) +
                      " used)",
                  period_retry);
  }
  if (key.budget_micro_usd > 0 && usage.period_micro_usd + cost > key.budget_micro_usd) {
    return Reject(429, "insufficient_quota",
                  who + "budget of " + FormatUsd(key.budget_micro_usd) + " USD per " +
                      key.quota_period + " is spent",
                  period_retry);
  }
  return std::nullopt;
}

constexpr char kRefusedAtFinish[] = "refused at finish: ";

// Finish's lock of the key's counters ($2: the key id; FOR UPDATE added on
// PostgreSQL) and its ledger row ($1..$15), which a retried Finish (the same
// finish_token) does not insert again.
constexpr char kLockKeyState[] =
    "SELECT minute_ms, minute_requests, minute_tokens, period_ms, period_tokens, "
    "period_micro_usd FROM key_state WHERE key_id = $2";
constexpr char kInsertLedger[] =
    "INSERT INTO usage_ledger (request_id, key_id, route, admitted_ms, minute_ms, period_ms, "
    "reserved_tokens, reserved_micro_usd, micro_usd_per_1k, status, tokens, micro_usd, "
    "latency_ms, finished_ms, finish_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13, $14, $15) ON CONFLICT (finish_token) DO NOTHING RETURNING id";

// Finish's two writes of a counted request, sharing one parameter list: the
// key's counters ($1 key id, $2..$7 the counters) and the hourly roll-up
// ($8 route, $9 hour, $10 errors, $11 tokens, $12 cost, $13 latency).
constexpr char kUpdateKeyState[] =
    "UPDATE key_state SET minute_ms = $2, minute_requests = $3, minute_tokens = $4, "
    "period_ms = $5, period_tokens = $6, period_micro_usd = $7 WHERE key_id = $1";
constexpr char kAddToHourly[] =
    "INSERT INTO usage_hourly (key_id, route, hour_ms, requests, errors, tokens, micro_usd, "
    "latency_ms_sum) VALUES ($1, $8, $9, 1, $10, $11, $12, $13) "
    "ON CONFLICT (key_id, route, hour_ms) DO UPDATE SET "
    "requests = usage_hourly.requests + 1, errors = usage_hourly.errors + excluded.errors, "
    "tokens = usage_hourly.tokens + excluded.tokens, "
    "micro_usd = usage_hourly.micro_usd + excluded.micro_usd, "
    "latency_ms_sum = usage_hourly.latency_ms_sum + excluded.latency_ms_sum";

// A token naming one reservation's ledger row, unique across processes and
// machines: a random prefix drawn once, the process id (a forked child keeps
// its parent's prefix) and a counter.
std::string NewReservationToken() {
  static const uint64_t prefix = [] {
    std::random_device random;
    return (uint64_t{random()} << 32) ^ random();
  }();
  static std::atomic<uint64_t> counter{0};
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%016llx-%llx-%llx",
                static_cast<unsigned long long>(prefix), static_cast<unsigned long long>(getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buffer;
}

Admission MalformedKey() {
  return Reject(401, "invalid_api_key",
                "malformed API key: expected mg_ followed by 43 base64url characters");
}

Admission MissingKey() {
  return Reject(401, "invalid_api_key",
                "missing API key: send it as Authorization: Bearer mg_... or X-Api-Key: mg_...");
}

Admission UnknownKey() { return Reject(401, "invalid_api_key", "unknown API key"); }

}  // namespace

ControlPlane::ControlPlane(ConnectionFactory factory, int pool_size, ControlPlaneOptions options)
    : options_(std::move(options)),
      now_ms_(options_.now_ms ? options_.now_ms : MillisecondsClock(Env::Default())),
      pool_(factory, pool_size),
      read_pool_(std::move(factory), 4),
      batcher_(&pool_, options_.max_batch < 1 ? 1 : options_.max_batch, audit_signer(),
               LockLicenceRows,
               options_.max_concurrent_batches > 0
                   ? std::min(options_.max_concurrent_batches, static_cast<size_t>(pool_size))
                   : 1) {}

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
  if (request.api_key.empty()) return MissingKey();
  if (!IsWellFormedApiKey(request.api_key)) return MalformedKey();
  const std::string hash = HashApiKey(request.api_key);
  const int64_t now = now_ms_();
  std::optional<Admission> refused;
  Status status = [&]() -> Status {
    MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
    MG_ASSIGN_OR_RETURN(SqlRows rows, lease->Query(kSelectKey, {hash, std::string(request.route)}));
    if (rows.empty()) {
      refused = UnknownKey();
      return Status::Ok();
    }
    MG_ASSIGN_OR_RETURN(KeyRow key, DecodeKeyRow(rows[0]));
    if (!ConstantTimeEquals(key.hash, hash)) {
      refused = UnknownKey();
      return Status::Ok();
    }
    refused = CheckKey(key, now, request.scope);
    if (!refused) {
      Admission admitted;
      admitted.key_id = key.id;
      admitted.key_name = key.name;
      admitted.key = std::move(key);
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

bool IsRefusedAtFinish(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find(kRefusedAtFinish) != std::string::npos;
}

KeyCounters LaterCounters(const KeyCounters& a, const KeyCounters& b) {
  KeyCounters later = a;
  if (b.minute_ms > a.minute_ms) {
    later.minute_ms = b.minute_ms;
    later.minute_requests = b.minute_requests;
    later.minute_tokens = b.minute_tokens;
  } else if (b.minute_ms == a.minute_ms) {
    later.minute_requests = std::max(a.minute_requests, b.minute_requests);
    later.minute_tokens = std::max(a.minute_tokens, b.minute_tokens);
  }
  if (b.period_ms > a.period_ms) {
    later.period_ms = b.period_ms;
    later.period_tokens = b.period_tokens;
    later.period_micro_usd = b.period_micro_usd;
  } else if (b.period_ms == a.period_ms) {
    later.period_tokens = std::max(a.period_tokens, b.period_tokens);
    later.period_micro_usd = std::max(a.period_micro_usd, b.period_micro_usd);
  }
  return later;
}

LicenceCounts LaterLicenceCounts(const LicenceCounts& a, const LicenceCounts& b) {
  LicenceCounts later = a;
  later.requests = std::max(a.requests, b.requests);
  if (b.day_ms > a.day_ms) {
    later.day_ms = b.day_ms;
    later.day_tokens = b.day_tokens;
  } else if (b.day_ms == a.day_ms) {
    later.day_tokens = std::max(a.day_tokens, b.day_tokens);
  }
  return later;
}

KeyCounters ControlPlane::UsageLocked(const KeyRow& key, int64_t now) {
  // Two views, each never counting a request twice: the counters this
  // process last saw plus all its open reservations; and the counters just
  // read (which may hold the reservations being committed) plus the
  // reservations not being committed. The larger count is the usage.
  const KeyCounters& seen = key_counters_.try_emplace(key.id, key.counters).first->second;
  KeyCounters mine = CurrentWindows(seen, key.quota_period, now);
  KeyCounters read = CurrentWindows(key.counters, key.quota_period, now);
  for (const auto& [id, open] : reservations_) {
    if (open.key.id != key.id) continue;
    for (KeyCounters* usage : {&mine, &read}) {
      if (usage == &read && open.committing) continue;
      if (open.minute_ms == usage->minute_ms) {
        usage->minute_requests += 1;
        usage->minute_tokens += open.tokens;
      }
      if (open.period_ms == usage->period_ms) {
        usage->period_tokens += open.tokens;
        usage->period_micro_usd += open.cost;
      }
    }
  }
  return LaterCounters(mine, read);
}

LicenceCounts ControlPlane::LicenceUsageLocked(const std::string& licence_id, int64_t day_ms,
                                               const LicenceCounts& read_counts) {
  // As UsageLocked: the larger of two views that never count twice.
  LicenceCounts mine = licence_counts_[licence_id];
  LicenceCounts read = read_counts;
  for (LicenceCounts* usage : {&mine, &read}) {
    if (usage->day_ms != day_ms) {
      usage->day_ms = day_ms;
      usage->day_tokens = 0;
    }
  }
  for (const auto& [id, open] : reservations_) {
    if (open.licence_id != licence_id) continue;
    for (LicenceCounts* usage : {&mine, &read}) {
      if (usage == &read && open.committing) continue;
      usage->requests += 1;
      if (open.licence_day_ms == day_ms) usage->day_tokens += open.tokens;
    }
  }
  return LaterLicenceCounts(mine, read);
}

// Audits the refusal of a known key in a transaction of its own; 503 if that
// cannot be written.
Admission ControlPlane::AuditRefusal(std::string_view hash, const AdmitRequest& request,
                                     int64_t now, Admission refused) {
  AuditEntry entry;
  entry.ts_ms = now;
  entry.actor = refused.key_name;
  entry.action = "request";
  entry.target = std::string(request.request_id);
  entry.route = std::string(request.route);
  entry.status = refused.status;
  entry.detail = refused.error_type;
  const Status status =
      batcher_.Run(std::string(hash), [&](SqlConnection&, std::vector<AuditEntry>& audit) {
        audit.push_back(entry);
        return Status::Ok();
      });
  if (!status.ok()) {
    Admission unavailable = Unavailable();
    unavailable.cause = status.ToString();
    return unavailable;
  }
  return refused;
}

Admission ControlPlane::Admit(const AdmitRequest& request) {
  // A key nobody holds costs no transaction and leaves no row.
  if (request.api_key.empty()) return MissingKey();
  if (!IsWellFormedApiKey(request.api_key)) return MalformedKey();
  const int64_t now = now_ms_();
  const std::string hash = HashApiKey(request.api_key);
  // Read the key (revocation, expiry, scope: as the database says now),
  // unless Authenticate just read it for this request, and, for a licence,
  // its counts.
  std::optional<KeyRow> key;
  if (request.key != nullptr && ConstantTimeEquals(request.key->hash, hash)) key = *request.key;
  std::optional<LicenceCounts> licence_found;
  const int64_t licence_day =
      request.licence != nullptr ? PeriodStart("day", request.licence_now_ms) : 0;
  Status status = [&]() -> Status {
    if (!key) {
      MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
      MG_ASSIGN_OR_RETURN(SqlRows rows,
                          lease->Query(kSelectKey, {hash, std::string(request.route)}));
      if (rows.empty()) return Status::Ok();
      MG_ASSIGN_OR_RETURN(key, DecodeKeyRow(rows[0]));
    }
    if (request.licence != nullptr) {
      MG_ASSIGN_OR_RETURN(licence_found,
                          LicenceUsage(request.licence->licence_id, request.licence_now_ms));
    }
    return Status::Ok();
  }();
  if (!status.ok()) {
    Admission unavailable = Unavailable();
    unavailable.cause = status.ToString();
    return unavailable;
  }
  if (!key || !ConstantTimeEquals(key->hash, hash)) return UnknownKey();  // not audited
  // Check the key.
  if (auto refused = CheckKey(*key, now, request.scope)) {
    return AuditRefusal(hash, request, now, std::move(*refused));
  }
  const int64_t tokens = request.tokens < 0 ? 0 : request.tokens;
  const int64_t cost = CostMicroUsd(tokens, key->micro_usd_per_1k);
  Admission admission;
  admission.key_id = key->id;
  admission.key_name = key->name;
  std::optional<Admission> refused;
  {
    std::lock_guard lock(mutex_);
    // Check the limits against what is committed plus what this process
    // admitted and has not finished.
    const KeyCounters usage = UsageLocked(*key, now);
    refused = CheckLimits(*key, usage, tokens, cost, now);
    LicenceVerdict licence;
    if (!refused && request.licence != nullptr) {
      const std::string& licence_id = request.licence->licence_id;
      licence = CheckLicenceQuota(*request.licence,
                                  LicenceUsageLocked(licence_id, licence_day, *licence_found),
                                  tokens, request.licence_now_ms);
      if (licence.status != 200) {
        refused =
            Reject(licence.status, licence.error_type, licence.message, licence.retry_after_s);
        refused->licence_counts = licence.counts;
      }
    }
    if (!refused) {
      // Reserve, in this process: durable only together with the request's
      // record, in Finish's transaction.
      Reservation reservation;
      reservation.key = *key;
      reservation.token = NewReservationToken();
      reservation.admitted_ms = now;
      reservation.minute_ms = usage.minute_ms;
      reservation.period_ms = usage.period_ms;
      reservation.tokens = tokens;
      reservation.cost = cost;
      if (request.licence != nullptr) {
        reservation.licence_id = request.licence->licence_id;
        reservation.licence_day_ms = licence.day_ms;
        reservation.licence_now_ms = request.licence_now_ms;
        admission.licence_day_ms = licence.day_ms;
        admission.licence_counts = licence.counts;
      }
      admission.reservation = next_reservation_++;
      reservations_.emplace(admission.reservation, std::move(reservation));
    }
  }
  if (refused) {
    refused->key_id = key->id;
    refused->key_name = key->name;
    return AuditRefusal(hash, request, now, std::move(*refused));
  }
  return admission;
}

Status ControlPlane::Finish(const Admission& admission, const AdmitRequest& request,
                            const Outcome& outcome) {
  if (admission.status != 200 || admission.reservation == 0) return Status::Ok();
  Reservation open;
  {
    std::lock_guard lock(mutex_);
    auto found = reservations_.find(admission.reservation);
    // Finished already, or released as abandoned: count once.
    if (found == reservations_.end()) return Status::Ok();
    found->second.committing = true;
    open = found->second;
  }
  const int64_t now = now_ms_();
  const int64_t tokens = outcome.tokens < 0 ? 0 : outcome.tokens;
  const int64_t cost = CostMicroUsd(tokens, open.key.micro_usd_per_1k);
  const int status = outcome.status == 0 ? 500 : outcome.status;
  const bool succeeded = status < 400;
  // Only a request that succeeded counts towards its licence.
  const bool licensed = !open.licence_id.empty() && request.licence != nullptr && succeeded;
  // What the op found and did; reset at each run (CommitBatcher may run it twice).
  bool recorded_before = false;
  std::optional<Admission> refused;
  KeyCounters after;
  std::optional<LicenceCounts> licence_after;
  const auto op = [&](SqlConnection& db, std::vector<AuditEntry>& audit) -> Status {
    recorded_before = false;
    refused.reset();
    licence_after.reset();
    // The key's counters row first (the lock every request of the key
    // takes), and the ledger row; on PostgreSQL in one round trip.
    const std::vector<SqlParam> ledger = {std::string(request.request_id),
                                          open.key.id,
                                          std::string(request.route),
                                          open.admitted_ms,
                                          open.minute_ms,
                                          open.period_ms,
                                          open.tokens,
                                          open.cost,
                                          open.key.micro_usd_per_1k,
                                          int64_t{status},
                                          tokens,
                                          cost,
                                          outcome.latency_ms,
                                          now,
                                          open.token};
    SqlRows rows;
    std::optional<int64_t> ledger_id;  // none: a retry of a Finish whose commit landed
    if (db.dialect() == Dialect::kPostgres) {
      MG_ASSIGN_OR_RETURN(rows, db.Query(std::string("WITH found AS (") + kLockKeyState +
                                             " FOR UPDATE), inserted AS (" + kInsertLedger +
                                             ") SELECT found.*, (SELECT id FROM inserted) "
                                             "FROM found",
                                         ledger));
      if (!rows.empty() && !rows[0].IsNull(6)) ledger_id = rows[0].Int(6);
    } else {
      MG_ASSIGN_OR_RETURN(rows, db.Query(kLockKeyState, {SqlParam{}, open.key.id}));
      if (!rows.empty()) {
        MG_ASSIGN_OR_RETURN(const SqlRows inserted, db.Query(kInsertLedger, ledger));
        if (!inserted.empty()) ledger_id = inserted[0].Int(0);
      }
    }
    if (rows.empty()) return NotFoundError("no counters for key " + open.key.id);
    const KeyCounters found{rows[0].Int(0), rows[0].Int(1), rows[0].Int(2),
                            rows[0].Int(3), rows[0].Int(4), rows[0].Int(5)};
    after = found;
    if (!ledger_id) {
      recorded_before = true;
      return Status::Ok();
    }
    // Check the limits again under the row lock, against what every server
    // committed, in the windows the request was admitted in.
    KeyCounters usage;
    usage.minute_ms = open.minute_ms;
    usage.period_ms = open.period_ms;
    if (found.minute_ms == open.minute_ms) {
      usage.minute_requests = found.minute_requests;
      usage.minute_tokens = found.minute_tokens;
    }
    if (found.period_ms == open.period_ms) {
      usage.period_tokens = found.period_tokens;
      usage.period_micro_usd = found.period_micro_usd;
    }
    refused = CheckLimits(open.key, usage, open.tokens, open.cost, open.admitted_ms);
    if (!refused && licensed) {
      // The licence's row is already locked (CommitBatcher's lock_first).
      MG_ASSIGN_OR_RETURN(
          const LicenceVerdict verdict,
          ReserveInLockedLicence(db, *request.licence, open.tokens, open.licence_now_ms));
      if (verdict.status != 200) {
        refused =
            Reject(verdict.status, verdict.error_type, verdict.message, verdict.retry_after_s);
        licence_after = verdict.counts;  // as found: what the other servers used
      } else {
        licence_after = verdict.counts;
        if (tokens != open.tokens) {
          MG_RETURN_IF_ERROR(
              AddToLicenceRows(db, open.licence_id, open.licence_day_ms, 0, tokens - open.tokens));
          licence_after->day_tokens += tokens - open.tokens;
        }
      }
    }
    if (refused) {
      MG_RETURN_IF_ERROR(db.Query("DELETE FROM usage_ledger WHERE id = $1", {*ledger_id}).status());
      AuditEntry entry;
      entry.ts_ms = now;
      entry.actor = open.key.name;
      entry.action = "request";
      entry.target = std::string(request.request_id);
      entry.route = std::string(request.route);
      entry.status = refused->status;
      entry.detail = refused->error_type;
      audit.push_back(std::move(entry));
      return Status::Ok();
    }
    // Count the request in the windows it was admitted in (a window that has
    // moved on meanwhile is left alone).
    if (found.minute_ms < open.minute_ms) {
      after.minute_ms = open.minute_ms;
      after.minute_requests = 0;
      after.minute_tokens = 0;
    }
    if (after.minute_ms == open.minute_ms) {
      after.minute_requests += 1;
      after.minute_tokens += tokens;
    }
    if (found.period_ms < open.period_ms) {
      after.period_ms = open.period_ms;
      after.period_tokens = 0;
      after.period_micro_usd = 0;
    }
    if (after.period_ms == open.period_ms) {
      after.period_tokens += tokens;
      after.period_micro_usd += cost;
    }
    const std::vector<SqlParam> counted = {open.key.id,
                                           after.minute_ms,
                                           after.minute_requests,
                                           after.minute_tokens,
                                           after.period_ms,
                                           after.period_tokens,
                                           after.period_micro_usd,
                                           std::string(request.route),
                                           HourStart(open.admitted_ms),
                                           int64_t{status >= 400 ? 1 : 0},
                                           tokens,
                                           cost,
                                           outcome.latency_ms};
    if (db.dialect() == Dialect::kPostgres) {
      // One round trip: the counters' UPDATE runs as a data-modifying WITH.
      MG_RETURN_IF_ERROR(
          db.Query(std::string("WITH counted AS (") + kUpdateKeyState + ") " + kAddToHourly,
                   counted)
              .status());
    } else {
      // SQLite runs no statement within another; no round trip to save.
      const std::vector<SqlParam> counters(counted.begin(), counted.begin() + 7);
      MG_RETURN_IF_ERROR(db.Query(kUpdateKeyState, counters).status());
      MG_RETURN_IF_ERROR(db.Query(kAddToHourly, counted).status());
    }
    AuditEntry entry;
    entry.ts_ms = now;
    entry.actor = open.key.name;
    entry.action = "request";
    entry.target = std::string(request.request_id);
    entry.route = std::string(request.route);
    entry.status = status;
    entry.tokens = tokens;
    audit.push_back(std::move(entry));
    return Status::Ok();
  };
  const std::string order_key =
      IsWellFormedApiKey(request.api_key) ? HashApiKey(request.api_key) : open.key.hash;
  const Status committed = batcher_.Run(order_key, op, licensed ? open.licence_id : std::string());
  std::lock_guard lock(mutex_);
  if (!committed.ok()) {
    // Not committed (or not known to be): still open, for a retry.
    auto found = reservations_.find(admission.reservation);
    if (found != reservations_.end()) found->second.committing = false;
    return committed;
  }
  // Committed: the reservation is now in the counters (or was refused).
  reservations_.erase(admission.reservation);
  if (!recorded_before) {
    KeyCounters& seen = key_counters_[open.key.id];
    seen = LaterCounters(seen, after);
    if (licence_after) {
      LicenceCounts& licence = licence_counts_[open.licence_id];
      licence = LaterLicenceCounts(licence, *licence_after);
    }
  }
  if (refused) {
    // "<error type>: refused at finish: <limit> (...)", as the server's
    // 429 reply takes it apart (serve/gate.h).
    return ResourceExhaustedError(refused->error_type + ": " + kRefusedAtFinish + refused->message +
                                  " (used up by requests on other servers meanwhile)");
  }
  return Status::Ok();
}

}  // namespace mg::store
