// ControlPlane's admin operations: keys and route prices. Each change and
// its audit entry commit together.
#include <algorithm>

#include "base/output_policy.h"
#include "store/api_key.h"
#include "store/control_plane.h"

namespace mg::store {
namespace {

// Free text fields: 1-128 bytes, no control characters (they would break
// the table and CSV reports and the audit log's readability).
Status ValidateText(std::string_view what, std::string_view value) {
  if (value.empty() || value.size() > 128) {
    return InvalidArgumentError(std::string(what) + " must be 1 to 128 bytes long");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError(std::string(what) + " must not contain control characters");
    }
  }
  return Status::Ok();
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string joined = ",";
  for (const std::string& scope : scopes) joined.append(scope).append(",");
  return joined;
}

std::vector<std::string> SplitScopes(const std::string& joined) {
  std::vector<std::string> scopes;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find(',', start);
    if (end == std::string::npos) end = joined.size();
    if (end > start) scopes.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return scopes;
}

std::string DescribeLimits(const KeySpec& spec) {
  std::string detail = "scopes=" + JoinScopes(spec.scopes);
  detail.append(" rpm=").append(std::to_string(spec.rpm));
  detail.append(" tpm=").append(std::to_string(spec.tpm));
  detail.append(" quota_tokens=").append(std::to_string(spec.quota_tokens));
  detail.append(" budget_micro_usd=").append(std::to_string(spec.budget_micro_usd));
  detail.append(" period=").append(spec.quota_period);
  detail.append(" expires_ms=").append(std::to_string(spec.expires_ms));
  detail.append(" output_policy=").append(spec.output_policy);
  return detail;
}

}  // namespace

Status ValidateKeySpec(const KeySpec& spec) {
  MG_RETURN_IF_ERROR(ValidateText("key name", spec.name));
  if (spec.scopes.empty()) return InvalidArgumentError("a key needs at least one scope");
  for (const std::string& scope : spec.scopes) {
    if (std::find(std::begin(kScopes), std::end(kScopes), scope) == std::end(kScopes)) {
      return InvalidArgumentError("unknown scope '" + scope +
                                  "' (expected classify, embed, recommend or admin)");
    }
  }
  if (spec.rpm < 0 || spec.tpm < 0 || spec.quota_tokens < 0 || spec.budget_micro_usd < 0) {
    return InvalidArgumentError("limits must not be negative (0 means unlimited)");
  }
  if (spec.quota_period != "day" && spec.quota_period != "month") {
    return InvalidArgumentError("quota period must be 'day' or 'month'");
  }
  if (spec.expires_ms < 0) return InvalidArgumentError("expiry must not be negative");
  return ParseOutputPolicy(spec.output_policy).status();
}

Result<CreatedKey> ControlPlane::CreateKey(const KeySpec& spec, std::string_view actor) {
  MG_RETURN_IF_ERROR(ValidateKeySpec(spec));
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  SqlConnection& db = *lease;
  CreatedKey created;
  created.secret = GenerateApiKey();
  created.info.id = GenerateKeyId();
  created.info.spec = spec;
  created.info.created_ms = now_ms_();
  std::vector<std::string> scopes = spec.scopes;
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  created.info.spec.scopes = scopes;
  MG_ASSIGN_OR_RETURN(const OutputPolicy policy, ParseOutputPolicy(spec.output_policy));
  created.info.spec.output_policy = ToString(policy);
  const Status status =
      AuditedTransaction(db, [&](std::vector<AuditCheckpoint>& signed_out) -> Status {
        MG_ASSIGN_OR_RETURN(SqlRows existing,
                            db.Query("SELECT id FROM api_keys WHERE name = $1", {spec.name}));
        if (!existing.empty()) {
          return InvalidArgumentError("a key named '" + spec.name +
                                      "' already exists (revoked keys keep their name)");
        }
        MG_RETURN_IF_ERROR(
            db.Query(
                  "INSERT INTO api_keys (id, name, hash, scopes, rpm, tpm, quota_tokens, "
                  "budget_micro_usd, quota_period, expires_ms, created_ms, output_policy) VALUES "
                  "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                  {created.info.id, spec.name, HashApiKey(created.secret), JoinScopes(scopes),
                   spec.rpm, spec.tpm, spec.quota_tokens, spec.budget_micro_usd, spec.quota_period,
                   spec.expires_ms, created.info.created_ms, created.info.spec.output_policy})
                .status());
        MG_RETURN_IF_ERROR(
            db.Query("INSERT INTO key_state (key_id) VALUES ($1)", {created.info.id}).status());
        return AuditAction(db, signed_out, actor, "key.create", spec.name,
                           "id=" + created.info.id + " " + DescribeLimits(created.info.spec));
      });
  if (!status.ok()) return status;
  return created;
}

Result<std::vector<KeyInfo>> ControlPlane::ListKeys() {
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
  MG_ASSIGN_OR_RETURN(
      SqlRows rows,
      lease->Query("SELECT id, name, scopes, rpm, tpm, quota_tokens, budget_micro_usd, "
                   "quota_period, expires_ms, created_ms, revoked_ms, output_policy FROM api_keys "
                   "ORDER BY name",
                   {}));
  std::vector<KeyInfo> keys;
  for (const SqlRow& row : rows) {
    KeyInfo info;
    info.id = row.Text(0);
    info.spec.name = row.Text(1);
    info.spec.scopes = SplitScopes(row.Text(2));
    info.spec.rpm = row.Int(3);
    info.spec.tpm = row.Int(4);
    info.spec.quota_tokens = row.Int(5);
    info.spec.budget_micro_usd = row.Int(6);
    info.spec.quota_period = row.Text(7);
    info.spec.expires_ms = row.Int(8);
    info.created_ms = row.Int(9);
    info.revoked_ms = row.Int(10);
    info.spec.output_policy = row.Text(11);
    keys.push_back(std::move(info));
  }
  return keys;
}

Status ControlPlane::RevokeKey(std::string_view name, std::string_view actor,
                               std::string_view reason) {
  MG_RETURN_IF_ERROR(ValidateText("key name", name));
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  SqlConnection& db = *lease;
  return AuditedTransaction(db, [&](std::vector<AuditCheckpoint>& signed_out) -> Status {
    MG_ASSIGN_OR_RETURN(SqlRows rows, db.Query("UPDATE api_keys SET revoked_ms = $2 WHERE name = "
                                               "$1 AND revoked_ms = 0 RETURNING id",
                                               {std::string(name), now_ms_()}));
    if (rows.empty()) {
      MG_ASSIGN_OR_RETURN(SqlRows any,
                          db.Query("SELECT id FROM api_keys WHERE name = $1", {std::string(name)}));
      if (any.empty()) return NotFoundError("no key named '" + std::string(name) + "'");
      return InvalidArgumentError("key '" + std::string(name) + "' is already revoked");
    }
    std::string detail = "id=" + rows[0].Text(0);
    if (!reason.empty()) detail.append(" reason=").append(reason);
    return AuditAction(db, signed_out, actor, "key.revoke", name, detail);
  });
}

Status ControlPlane::RecordAuditEvent(std::string_view actor, std::string_view action,
                                      std::string_view target, std::string_view detail) {
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  SqlConnection& db = *lease;
  return AuditedTransaction(db, [&](std::vector<AuditCheckpoint>& signed_out) -> Status {
    return AuditAction(db, signed_out, actor, action, target, detail);
  });
}

Status ControlPlane::SetRoutePrice(std::string_view route, int64_t micro_usd_per_1k,
                                   std::string_view actor) {
  MG_RETURN_IF_ERROR(ValidateText("route", route));
  if (micro_usd_per_1k < 0) return InvalidArgumentError("a price must not be negative");
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  SqlConnection& db = *lease;
  return AuditedTransaction(db, [&](std::vector<AuditCheckpoint>& signed_out) -> Status {
    MG_RETURN_IF_ERROR(
        db.Query("INSERT INTO route_prices (route, micro_usd_per_1k) VALUES ($1, $2) "
                 "ON CONFLICT (route) DO UPDATE SET micro_usd_per_1k = excluded.micro_usd_per_1k",
                 {std::string(route), micro_usd_per_1k})
            .status());
    return AuditAction(db, signed_out, actor, "price.set", route,
                       "micro_usd_per_1k=" + std::to_string(micro_usd_per_1k));
  });
}

}  // namespace mg::store
