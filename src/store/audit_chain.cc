#include "store/audit_chain.h"

#include <sodium.h>

namespace mg::store {
namespace {

constexpr char kEntryColumns[] =
    "seq, ts_ms, actor, action, target, route, status, tokens, detail, prev_hash, hash";

void AppendField(std::string& out, std::string_view value) {
  out.append(std::to_string(value.size())).append(":").append(value).append("\n");
}

AuditEntry EntryFromRow(const SqlRow& row) {
  AuditEntry entry;
  entry.seq = row.Int(0);
  entry.ts_ms = row.Int(1);
  entry.actor = row.Text(2);
  entry.action = row.Text(3);
  entry.target = row.Text(4);
  entry.route = row.Text(5);
  entry.status = static_cast<int>(row.Int(6));
  entry.tokens = row.Int(7);
  entry.detail = row.Text(8);
  entry.prev_hash = row.Text(9);
  entry.hash = row.Text(10);
  return entry;
}

}  // namespace

std::string ComputeAuditHash(const AuditEntry& entry) {
  std::string canonical = "modelgate-audit-v1\n";
  AppendField(canonical, std::to_string(entry.seq));
  AppendField(canonical, std::to_string(entry.ts_ms));
  AppendField(canonical, entry.actor);
  AppendField(canonical, entry.action);
  AppendField(canonical, entry.target);
  AppendField(canonical, entry.route);
  AppendField(canonical, std::to_string(entry.status));
  AppendField(canonical, std::to_string(entry.tokens));
  AppendField(canonical, entry.detail);
  AppendField(canonical, entry.prev_hash);
  return HexEncode(Blake2b256(canonical));
}

std::string CheckpointMessage(int64_t seq, std::string_view hash) {
  std::string message = "modelgate-audit-checkpoint-v1\n";
  message.append(std::to_string(seq)).append("\n").append(hash);
  return message;
}

bool CheckpointSignatureValid(const AuditCheckpoint& checkpoint, std::string_view pinned) {
  if (checkpoint.public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      checkpoint.signature.size() != crypto_sign_BYTES) {
    return false;
  }
  if (!pinned.empty() && checkpoint.public_key != pinned) return false;
  const std::string message = CheckpointMessage(checkpoint.seq, checkpoint.hash);
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(checkpoint.signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(checkpoint.public_key.data())) == 0;
}

Status AppendAudit(SqlConnection& db, std::vector<AuditEntry>& entries, const AuditSigner* signer,
                   std::vector<AuditCheckpoint>* signed_out) {
  if (entries.empty()) return Status::Ok();
  const std::string head_sql =
      std::string("SELECT seq, hash FROM audit_head WHERE id = 1") + ForUpdate(db.dialect());
  MG_ASSIGN_OR_RETURN(SqlRows head, db.Query(head_sql, {}));
  if (head.empty()) return CorruptionError("audit_head row is missing");
  int64_t seq = head[0].Int(0);
  std::string prev = head[0].Text(1);
  // The entries go in by up to kRowsPerInsert per statement: one round trip
  // for a batch's entries instead of one each (11 parameters a row, well
  // within SQLite's 999).
  constexpr size_t kRowsPerInsert = 64;
  std::string sql;
  std::vector<SqlParam> params;
  const auto flush = [&]() -> Status {
    if (params.empty()) return Status::Ok();
    const Status inserted = db.Query(sql, params).status();
    sql.clear();
    params.clear();
    return inserted;
  };
  size_t rows = 0;
  for (AuditEntry& entry : entries) {
    entry.seq = ++seq;
    entry.prev_hash = prev;
    entry.hash = ComputeAuditHash(entry);
    prev = entry.hash;
    if (params.empty()) {
      sql =
          "INSERT INTO audit_log (seq, ts_ms, actor, action, target, route, status, tokens, "
          "detail, prev_hash, hash) VALUES ";
      rows = 0;
    }
    const size_t first = params.size();
    params.insert(params.end(),
                  {entry.seq, entry.ts_ms, entry.actor, entry.action, entry.target, entry.route,
                   int64_t{entry.status}, entry.tokens, entry.detail, entry.prev_hash, entry.hash});
    sql += rows == 0 ? "(" : ", (";
    for (size_t param = first; param < params.size(); ++param) {
      sql += (param == first ? "$" : ", $") + std::to_string(param + 1);
    }
    sql += ")";
    if (++rows == kRowsPerInsert) MG_RETURN_IF_ERROR(flush());
    if (signer != nullptr && signer->checkpoint_every > 0 &&
        entry.seq % signer->checkpoint_every == 0) {
      // The checkpoint's entry is in the database before the checkpoint.
      MG_RETURN_IF_ERROR(flush());
      AuditCheckpoint checkpoint{entry.seq, entry.hash, signer->public_key,
                                 signer->sign(CheckpointMessage(entry.seq, entry.hash))};
      MG_RETURN_IF_ERROR(db.Query("INSERT INTO audit_checkpoints (seq, hash, ts_ms, public_key, "
                                  "signature) VALUES ($1, $2, $3, $4, $5)",
                                  {entry.seq, entry.hash, entry.ts_ms,
                                   HexEncode(signer->public_key), HexEncode(checkpoint.signature)})
                             .status());
      if (signed_out != nullptr) signed_out->push_back(std::move(checkpoint));
    }
  }
  MG_RETURN_IF_ERROR(flush());
  return db.Query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", {seq, prev}).status();
}

void AnchorCommitted(const AuditSigner* signer, const std::vector<AuditCheckpoint>& committed) {
  if (signer == nullptr || !signer->anchor) return;
  for (const AuditCheckpoint& checkpoint : committed) signer->anchor(checkpoint);
}

Result<int64_t> CountAuditCheckpoints(SqlConnection& db) {
  MG_ASSIGN_OR_RETURN(SqlRows rows, db.Query("SELECT COUNT(*) FROM audit_checkpoints", {}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

Result<std::vector<AuditEntry>> ReadAuditEntries(SqlConnection& db, int64_t after_seq,
                                                 int64_t limit) {
  MG_ASSIGN_OR_RETURN(SqlRows rows,
                      db.Query(std::string("SELECT ") + kEntryColumns +
                                   " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                               {after_seq, limit}));
  std::vector<AuditEntry> entries;
  entries.reserve(rows.size());
  for (const SqlRow& row : rows) entries.push_back(EntryFromRow(row));
  return entries;
}

}  // namespace mg::store
