// ControlPlane: API keys, limits, metering and the audit trail of a
// modelgate deployment, on a SQLite file or a PostgreSQL database that
// several server replicas share.
//
// A request goes through Authenticate, Admit, then Finish (the server's Gate
// maps onto these one-to-one):
//   Authenticate  checks the key alone, read-only and before the server
//           does any work for the request: format, hash lookup,
//           revocation, expiry, scope. A request without a key anyone holds
//           (missing, malformed, unknown) is refused without writing
//           anything: such refusals are counted by the server, never stored
//           one row each, so that nobody without a key can fill the
//           database. A known key that is refused is audited.
//   Admit   checks the key (read from the database once per request, by
//           Authenticate, whose row the server hands to Admit, or by Admit:
//           revocation takes effect on the next request on every replica),
//           checks its limits — requests and tokens per minute, the token
//           quota and the budget of the current period, and the licence's
//           quotas when the request carries them — against the committed
//           counters (read with the key) plus this process's open
//           reservations, and reserves the request in memory, under one
//           lock with the check. Nothing is written for an admitted request.
//   Finish  makes the reservation durable together with the request's record,
//           in one transaction: locks the key's counters row, inserts the
//           ledger row with the outcome (status, tokens, cost, latency),
//           checks the limits again against what every replica committed,
//           counts the request, adds to the hourly roll-up and the licence,
//           and appends the audit entry. Idempotent: a retried Finish counts
//           once (the ledger row's unique finish_token). When other replicas
//           used the limit up meanwhile it counts nothing, audits a refusal
//           and fails with IsRefusedAtFinish; the server then answers the
//           refusal (429) instead of the result. The server must call it
//           before sending a response, and answer 503 if it fails otherwise,
//           so a response the client received is always in the ledger; a process that dies
//           before Finish committed never sent one, and its reservations die
//           with it.
// Rejections (401, 403, 429) of known keys are audited too. Anything the
// database cannot do (down, locked for too long, disk full) makes Admit or
// Finish fail: 503 "service_unavailable"; the control plane fails closed.
//
// Finish transactions (and audited refusals) of concurrent requests are
// committed in groups (CommitBatcher), several groups at once on PostgreSQL:
// one commit and one turn at the audit chain's head for many requests, and
// each call still returns only after its own work committed.
//
// Quotas are never exceeded by committed usage: one process reserves under a
// lock, and Finish checks again under the counters row lock (the bound with
// estimated tokens is the difference between reserved and actual tokens of
// requests in flight, zero when the server knows the tokens at admission, as
// it does after tokenising). docs/control-plane.md has the argument.
//
// Thread safety: all methods may be called concurrently from many threads
// and processes; they block on the database (call them off I/O threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/admission.h"
#include "store/audit_chain.h"
#include "store/commit_batcher.h"
#include "store/connection_pool.h"
#include "store/key_row.h"
#include "store/licence_quota.h"

namespace mg::store {

inline constexpr const char* kScopes[] = {"classify", "embed", "recommend", "admin"};

struct KeySpec {
  std::string name;
  std::vector<std::string> scopes;     // subset of kScopes
  int64_t rpm = 0;                     // requests per minute; 0 = unlimited
  int64_t tpm = 0;                     // tokens per minute; 0 = unlimited
  int64_t quota_tokens = 0;            // tokens per period; 0 = unlimited
  int64_t budget_micro_usd = 0;        // cost per period; 0 = unlimited
  std::string quota_period = "month";  // "day" or "month" (UTC calendar)
  int64_t expires_ms = 0;              // Unix ms; 0 = never
  // What the key's replies may show (base/output_policy.h's compact form);
  // stored in its canonical form.
  std::string output_policy = "full";
};

struct KeyInfo {
  std::string id;
  KeySpec spec;
  int64_t created_ms = 0;
  int64_t revoked_ms = 0;  // 0 = active
};

struct CreatedKey {
  KeyInfo info;
  std::string secret;  // shown once; never stored
};

struct AdmitRequest {
  std::string_view api_key, route, scope, request_id;
  int64_t tokens = 0;
  // The served model's licence quotas (licence_quota.h), reserved in the
  // same transaction once the key is admitted and settled by Finish; null:
  // none. `licence_now_ms` is the licence clock (the day tokens count on).
  const LicenceLimits* licence = nullptr;
  int64_t licence_now_ms = 0;
  // Admit: the key row Authenticate read for this request (Admission::key),
  // used instead of reading it again when its hash is the hash of `api_key`;
  // null: Admit reads the key. Must outlive the call.
  const KeyRow* key = nullptr;
};

struct UsageQuery {
  std::string key_name;  // empty = every key
  int64_t since_ms = 0;
  int64_t bucket_ms = 0;  // 0: one row per key; 3600000: per hour; 86400000: per day
};

struct UsageRow {
  std::string key_name, key_id;
  int64_t period_ms = 0;  // start of the bucket (not bucketed: the first hour with usage)
  int64_t requests = 0, errors = 0, tokens = 0, micro_usd = 0;
  double mean_latency_ms = 0;
};

struct ControlPlaneOptions {
  int pool_size = 0;      // 0: 1 for SQLite (one writer anyway), 8 for PostgreSQL
  size_t max_batch = 64;  // requests' transactions committed together (group commit)
  // Batches committing at once, each on its own connection; 0: 1 (see
  // docs/control-plane.md, "Request path and durability").
  size_t max_concurrent_batches = 0;
  std::function<int64_t()> now_ms;          // default: Env::Default()'s clock (MillisecondsClock)
  std::optional<AuditSigner> audit_signer;  // signs checkpoints when set
  ConnectionFactory connection_factory;     // default: OpenConnection(url)
  // SQLite: copy the write-ahead log into the database from a background
  // thread, so that no request waits for a checkpoint's fsync.
  bool sqlite_background_checkpoint = true;
};

class ControlPlane {
 public:
  // Connects to `url` (sqlite:PATH or postgresql://…) and applies migrations.
  static Result<std::unique_ptr<ControlPlane>> Open(const std::string& url,
                                                    ControlPlaneOptions options = {});
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Status 200 with the key's id and name: the key may make the request
  // (Admit checks it again, in its transaction). Only a known key's
  // refusal writes (its audit entry); 503 when the database is unavailable.
  Admission Authenticate(const AdmitRequest& request);
  Admission Admit(const AdmitRequest& request);
  Status Finish(const Admission& admission, const AdmitRequest& request, const Outcome& outcome);

  // Admin operations; each is audited with `actor` as who did it.
  Result<CreatedKey> CreateKey(const KeySpec& spec, std::string_view actor);
  Result<std::vector<KeyInfo>> ListKeys();
  // `reason`, when given, is written in the audit entry's detail.
  Status RevokeKey(std::string_view name, std::string_view actor, std::string_view reason = {});
  // Appends one audit entry (e.g. the extraction alarm's): who, what, on
  // what, and a detail that must never hold request text or secrets.
  Status RecordAuditEvent(std::string_view actor, std::string_view action, std::string_view target,
                          std::string_view detail);
  Status SetRoutePrice(std::string_view route, int64_t micro_usd_per_1k, std::string_view actor);

  // Marks ledger rows admitted more than `older_than_ms` ago and never
  // finished as abandoned (status -1) and returns their reserved tokens and
  // cost to the key's current minute and period. A later Finish of such a
  // request is ignored. Returns how many were released; audited.
  Result<int64_t> ReleaseAbandoned(int64_t older_than_ms, std::string_view actor);

  // Licence quotas (licence_quota.h), shared by every replica on this
  // database. ReserveLicence counts one request of `tokens` on the UTC day of
  // `now_ms` (the licence clock) unless a limit would be exceeded; an error
  // means the database is unavailable. SettleLicence corrects a reservation
  // once the reply is known: a request that did not succeed gives back its
  // request and tokens, one that did counts `tokens` instead of the reserved.
  Result<LicenceVerdict> ReserveLicence(const LicenceLimits& limits, int64_t tokens,
                                        int64_t now_ms);
  Status SettleLicence(const std::string& licence_id, int64_t day_ms, int64_t reserved_tokens,
                       int64_t tokens, bool succeeded);
  Result<LicenceCounts> LicenceUsage(const std::string& licence_id, int64_t now_ms);

  Result<std::vector<UsageRow>> Usage(const UsageQuery& query);
  // Verifies the whole chain (audit_chain.h). With a key, checkpoints are
  // required every `checkpoint_every` entries of this control plane's signer
  // (kAuditCheckpointEvery without one).
  Result<AuditVerdict> VerifyAudit(std::string_view pinned_public_key = {});
  Result<AuditVerdict> VerifyAudit(const AuditVerifyOptions& options);
  Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int64_t limit);

  // Borrow a connection (tests and tools that inspect the tables).
  Result<ConnectionPool::Lease> Connection() { return read_pool_.Acquire(); }
  int64_t Now() const { return now_ms_(); }
  // The signer of audit checkpoints, or null when none was configured.
  const AuditSigner* audit_signer() const {
    return options_.audit_signer ? &*options_.audit_signer : nullptr;
  }

 private:
  ControlPlane(ConnectionFactory factory, int pool_size, ControlPlaneOptions options);
  void CheckpointLoop(std::stop_token stop, ConnectionFactory factory);
  // Runs `body(signed_out)` in a write transaction on `db`; the checkpoints
  // its AuditAction calls signed go to the anchor once it committed.
  template <typename Body>
  Status AuditedTransaction(SqlConnection& db, Body&& body) {
    std::vector<AuditCheckpoint> signed_out;
    const Status status = InTransaction(db, [&]() -> Status { return body(signed_out); });
    if (status.ok()) AnchorCommitted(audit_signer(), signed_out);
    return status;
  }
  // A request admitted and not finished yet: what Admit counted it as, kept
  // in this process only (see "Request path and durability" in
  // docs/control-plane.md).
  struct Reservation {
    KeyRow key;         // limits and name as admitted (counters unused)
    std::string token;  // the ledger row's finish_token: Finish counts once
    int64_t admitted_ms = 0, minute_ms = 0, period_ms = 0, tokens = 0, cost = 0;
    std::string licence_id;  // empty: none
    int64_t licence_day_ms = -1, licence_now_ms = 0;
    bool committing = false;  // its Finish is running: it may be in the database already
  };
  // The key's usage in its current windows at `now`: the committed counters
  // (as last seen, and as `key` was just read) plus this process's open
  // reservations. Requires mutex_.
  KeyCounters UsageLocked(const KeyRow& key, int64_t now);
  LicenceCounts LicenceUsageLocked(const std::string& licence_id, int64_t day_ms,
                                   const LicenceCounts& read_counts);
  Admission AuditRefusal(std::string_view hash, const AdmitRequest& request, int64_t now,
                         Admission refused);
  Status AuditAction(SqlConnection& db, std::vector<AuditCheckpoint>& signed_out,
                     std::string_view actor, std::string_view action, std::string_view target,
                     std::string_view detail);

  ControlPlaneOptions options_;
  std::function<int64_t()> now_ms_;
  ConnectionPool pool_;       // writes: requests and admin actions
  ConnectionPool read_pool_;  // reports and verification, never blocking writers
  CommitBatcher batcher_;
  // Open reservations and the committed counters as last seen (read at a
  // key's first admission, then from each Finish's locked row).
  std::mutex mutex_;
  uint64_t next_reservation_ = 1;                                  // guarded by mutex_
  std::unordered_map<uint64_t, Reservation> reservations_;         // guarded by mutex_
  std::unordered_map<std::string, KeyCounters> key_counters_;      // guarded by mutex_; by key id
  std::unordered_map<std::string, LicenceCounts> licence_counts_;  // guarded by mutex_
  std::jthread checkpointer_;  // SQLite only; stops and joins first on destruction
};

// Finish's error for a request this server admitted that no longer fits a
// limit because requests finished meanwhile on other servers sharing the
// database used it up: nothing was counted, the refusal is audited (429),
// and the reply must not be sent: the server answers 429 instead. A
// ResourceExhausted status whose message is "<error type>: <text>".
bool IsRefusedAtFinish(const Status& status);

// The later of two snapshots of one key's committed counters (counts only
// grow within a minute or period, so the larger count is the later one).
KeyCounters LaterCounters(const KeyCounters& a, const KeyCounters& b);
LicenceCounts LaterLicenceCounts(const LicenceCounts& a, const LicenceCounts& b);

// Validation shared with the CLI.
Status ValidateKeySpec(const KeySpec& spec);

}  // namespace mg::store
