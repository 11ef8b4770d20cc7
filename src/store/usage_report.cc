// ControlPlane's read side: usage reports from the hourly roll-ups, and the
// audit trail.
#include "store/control_plane.h"
#include "store/limits.h"

namespace mg::store {

Result<std::vector<UsageRow>> ControlPlane::Usage(const UsageQuery& query) {
  if (query.bucket_ms < 0) return InvalidArgumentError("bucket must not be negative");
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
  // Bucketed: one row per key and bucket; otherwise one row per key, whose
  // period starts at the key's first hour with usage from `since` on.
  const std::string bucket = query.bucket_ms > 0
                                 ? "(h.hour_ms / " + std::to_string(query.bucket_ms) + ") * " +
                                       std::to_string(query.bucket_ms)
                                 : std::string("MIN(h.hour_ms)");
  std::string sql = "SELECT k.name, k.id, " + bucket +
                    ", SUM(h.requests), SUM(h.errors), SUM(h.tokens), SUM(h.micro_usd), "
                    "SUM(h.latency_ms_sum) FROM usage_hourly h JOIN api_keys k ON k.id = "
                    "h.key_id WHERE h.hour_ms >= $1 AND ($2 = '' OR k.name = $2) "
                    "GROUP BY k.name, k.id";
  if (query.bucket_ms > 0) sql.append(", ").append(bucket);
  sql.append(" ORDER BY k.name, 3");
  const int64_t since = HourStart(query.since_ms);
  MG_ASSIGN_OR_RETURN(SqlRows rows, lease->Query(sql, {since, query.key_name}));
  std::vector<UsageRow> usage;
  for (const SqlRow& row : rows) {
    UsageRow out;
    out.key_name = row.Text(0);
    out.key_id = row.Text(1);
    out.period_ms = row.Int(2);
    out.requests = row.Int(3);
    out.errors = row.Int(4);
    out.tokens = row.Int(5);
    out.micro_usd = row.Int(6);
    out.mean_latency_ms = out.requests > 0 ? row.Real(7) / static_cast<double>(out.requests) : 0;
    usage.push_back(std::move(out));
  }
  return usage;
}

Result<AuditVerdict> ControlPlane::VerifyAudit(std::string_view pinned_public_key) {
  AuditVerifyOptions options;
  options.pinned_public_key = std::string(pinned_public_key);
  if (const AuditSigner* signer = audit_signer()) {
    options.checkpoint_every = signer->checkpoint_every;
  }
  return VerifyAudit(options);
}

Result<AuditVerdict> ControlPlane::VerifyAudit(const AuditVerifyOptions& options) {
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
  return VerifyAuditChain(*lease, options);
}

Result<std::vector<AuditEntry>> ControlPlane::ReadAudit(int64_t after_seq, int64_t limit) {
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, read_pool_.Acquire());
  return ReadAuditEntries(*lease, after_seq, limit);
}

}  // namespace mg::store
