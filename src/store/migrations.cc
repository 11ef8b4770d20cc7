#include "store/migrations.h"

#include <string>
#include <vector>

namespace mg::store {
namespace {

// Version 1. {ID} is the dialect's auto-increment key, {REAL} its double.
// Money is integer micro-US-dollars; times are Unix milliseconds (UTC).
constexpr char kVersion1[] = R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  rpm BIGINT NOT NULL DEFAULT 0,
  tpm BIGINT NOT NULL DEFAULT 0,
  quota_tokens BIGINT NOT NULL DEFAULT 0,
  budget_micro_usd BIGINT NOT NULL DEFAULT 0,
  quota_period TEXT NOT NULL DEFAULT 'month',
  expires_ms BIGINT NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL,
  revoked_ms BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE key_state (
  key_id TEXT PRIMARY KEY REFERENCES api_keys(id),
  minute_ms BIGINT NOT NULL DEFAULT 0,
  minute_requests BIGINT NOT NULL DEFAULT 0,
  minute_tokens BIGINT NOT NULL DEFAULT 0,
  period_ms BIGINT NOT NULL DEFAULT 0,
  period_tokens BIGINT NOT NULL DEFAULT 0,
  period_micro_usd BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE route_prices (
  route TEXT PRIMARY KEY,
  micro_usd_per_1k BIGINT NOT NULL
);
CREATE TABLE usage_ledger (
  id {ID},
  request_id TEXT NOT NULL,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  route TEXT NOT NULL,
  admitted_ms BIGINT NOT NULL,
  minute_ms BIGINT NOT NULL,
  period_ms BIGINT NOT NULL,
  reserved_tokens BIGINT NOT NULL,
  reserved_micro_usd BIGINT NOT NULL,
  micro_usd_per_1k BIGINT NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  tokens BIGINT NOT NULL DEFAULT 0,
  micro_usd BIGINT NOT NULL DEFAULT 0,
  latency_ms {REAL} NOT NULL DEFAULT 0,
  finished_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX usage_ledger_key_time ON usage_ledger (key_id, admitted_ms);
CREATE INDEX usage_ledger_open ON usage_ledger (status, admitted_ms);
CREATE TABLE usage_hourly (
  key_id TEXT NOT NULL,
  route TEXT NOT NULL,
  hour_ms BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  errors BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  micro_usd BIGINT NOT NULL,
  latency_ms_sum {REAL} NOT NULL,
  PRIMARY KEY (key_id, route, hour_ms)
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  ts_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  route TEXT NOT NULL,
  status INTEGER NOT NULL,
  tokens BIGINT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
)sql";

// Version 2: licence quotas. One row per licence id holds the lifetime
// request count and is the lock every reservation takes; licence_daily keeps
// each UTC day's requests and tokens.
constexpr char kVersion2[] = R"sql(
CREATE TABLE licence_state (
  licence_id TEXT PRIMARY KEY,
  requests BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE licence_daily (
  licence_id TEXT NOT NULL,
  day_ms BIGINT NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0,
  tokens BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (licence_id, day_ms)
);
)sql";

// Version 3: a ledger row written by Finish carries the token of its
// reservation, so that a Finish retried after a lost COMMIT counts once.
constexpr char kVersion3[] = R"sql(
ALTER TABLE usage_ledger ADD COLUMN finish_token TEXT;
CREATE UNIQUE INDEX usage_ledger_finish_token ON usage_ledger (finish_token);
)sql";

// Version 4: what a key's replies may show (base/output_policy.h, the
// canonical compact form); keys created before it show everything.
constexpr char kVersion4[] = R"sql(
ALTER TABLE api_keys ADD COLUMN output_policy TEXT NOT NULL DEFAULT 'full';
)sql";

std::string ForDialect(std::string sql, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
  auto replace = [&sql](const std::string& from, const std::string& to) {
    for (size_t pos = sql.find(from); pos != std::string::npos; pos = sql.find(from, pos)) {
      sql.replace(pos, from.size(), to);
      pos += to.size();
    }
  };
  replace("{ID}", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
  replace("{REAL}", pg ? "DOUBLE PRECISION" : "REAL");
  return sql;
}

const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {kVersion1, kVersion2, kVersion3, kVersion4};
  return kMigrations;
}

}  // namespace

Status ApplyMigrations(SqlConnection& db) {
  const bool pg = db.dialect() == Dialect::kPostgres;
  for (int version = 1; version <= static_cast<int>(Migrations().size()); ++version) {
    Status status = InTransaction(db, [&]() -> Status {
      if (pg) MG_RETURN_IF_ERROR(db.Query("SELECT pg_advisory_xact_lock(7270551)", {}).status());
      MG_RETURN_IF_ERROR(
          db.ExecScript("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
      MG_ASSIGN_OR_RETURN(SqlRows rows,
                          db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_version", {}));
      const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
      if (current > kSchemaVersion) {
        return InvalidArgumentError("database schema version " + std::to_string(current) +
                                    " is newer than this modelgate understands (" +
                                    std::to_string(kSchemaVersion) + ")");
      }
      if (current >= version) return Status::Ok();
      MG_RETURN_IF_ERROR(db.ExecScript(ForDialect(Migrations()[version - 1], db.dialect())));
      MG_RETURN_IF_ERROR(db.Query("DELETE FROM schema_version", {}).status());
      return db.Query("INSERT INTO schema_version (version) VALUES ($1)", {int64_t{version}})
          .status();
    });
    MG_RETURN_IF_ERROR(status.WithContext("applying schema migration " + std::to_string(version)));
  }
  return Status::Ok();
}

}  // namespace mg::store
