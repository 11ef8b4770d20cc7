#include "store/audit_chain.h"

#include <sodium.h>

#include <optional>

namespace mg::store {
namespace {

constexpr char kGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kEntryColumns[] =
    "seq, ts_ms, actor, action, target, route, status, tokens, detail, prev_hash, hash";

void AppendField(std::string& out, std::string_view value) {
  out.append(std::to_string(value.size())).append(":").append(value).append("\n");
}

std::string Hex(std::string_view bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  hex.pop_back();
  return hex;
}

std::optional<std::string> Unhex(std::string_view hex) {
  std::string bytes(hex.size() / 2, '\0');
  size_t length = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), nullptr, &length, nullptr) != 0 ||
      length * 2 != hex.size()) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
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
  unsigned char digest[32];
  crypto_generichash(digest, sizeof(digest),
                     reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
                     nullptr, 0);
  return Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string CheckpointMessage(int64_t seq, std::string_view hash) {
  std::string message = "modelgate-audit-checkpoint-v1\n";
  message.append(std::to_string(seq)).append("\n").append(hash);
  return message;
}

Status AppendAudit(SqlConnection& db, std::vector<AuditEntry>& entries, const AuditSigner* signer) {
  if (entries.empty()) return Status::Ok();
  const std::string head_sql =
      std::string("SELECT seq, hash FROM audit_head WHERE id = 1") + ForUpdate(db.dialect());
  MG_ASSIGN_OR_RETURN(SqlRows head, db.Query(head_sql, {}));
  if (head.empty()) return CorruptionError("audit_head row is missing");
  int64_t seq = head[0].Int(0);
  std::string prev = head[0].Text(1);
  for (AuditEntry& entry : entries) {
    entry.seq = ++seq;
    entry.prev_hash = prev;
    entry.hash = ComputeAuditHash(entry);
    prev = entry.hash;
    MG_RETURN_IF_ERROR(
        db.Query("INSERT INTO audit_log (seq, ts_ms, actor, action, target, route, status, "
                 "tokens, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                 "$10, $11)",
                 {entry.seq, entry.ts_ms, entry.actor, entry.action, entry.target, entry.route,
                  int64_t{entry.status}, entry.tokens, entry.detail, entry.prev_hash, entry.hash})
            .status());
    if (signer != nullptr && signer->checkpoint_every > 0 &&
        entry.seq % signer->checkpoint_every == 0) {
      const std::string signature = signer->sign(CheckpointMessage(entry.seq, entry.hash));
      MG_RETURN_IF_ERROR(
          db.Query("INSERT INTO audit_checkpoints (seq, hash, ts_ms, public_key, "
                   "signature) VALUES ($1, $2, $3, $4, $5)",
                   {entry.seq, entry.hash, entry.ts_ms, Hex(signer->public_key), Hex(signature)})
              .status());
    }
  }
  return db.Query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", {seq, prev}).status();
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

Result<AuditVerdict> VerifyAuditChain(SqlConnection& db, std::string_view pinned_public_key) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  AuditVerdict verdict;
  auto fail = [&verdict](int64_t seq, std::string problem) {
    verdict.intact = false;
    verdict.first_bad_seq = seq;
    verdict.problem = "audit entry " + std::to_string(seq) + ": " + std::move(problem);
    return verdict;
  };
  // Checkpoints first: each must be validly signed; its hash is checked
  // against the entry when the walk reaches it.
  MG_ASSIGN_OR_RETURN(
      SqlRows checkpoints,
      db.Query("SELECT seq, hash, public_key, signature FROM audit_checkpoints ORDER BY seq", {}));
  size_t next_checkpoint = 0;

  std::string expected_prev = kGenesisHash;
  int64_t expected_seq = 1;
  while (true) {
    MG_ASSIGN_OR_RETURN(std::vector<AuditEntry> page, ReadAuditEntries(db, expected_seq - 1, 5000));
    if (page.empty()) break;
    for (const AuditEntry& entry : page) {
      if (entry.seq != expected_seq) {
        return fail(expected_seq,
                    "missing (deleted); the chain jumps to entry " + std::to_string(entry.seq));
      }
      if (ComputeAuditHash(entry) != entry.hash) {
        return fail(entry.seq, "edited: its contents do not match its hash");
      }
      if (entry.prev_hash != expected_prev) {
        return fail(entry.seq, "out of place: it does not follow entry " +
                                   std::to_string(entry.seq - 1) +
                                   " (an entry was deleted, inserted or reordered)");
      }
      while (next_checkpoint < checkpoints.size() &&
             checkpoints[next_checkpoint].Int(0) <= entry.seq) {
        const SqlRow& checkpoint = checkpoints[next_checkpoint];
        const int64_t seq = checkpoint.Int(0);
        if (seq == entry.seq) {
          const auto key = Unhex(checkpoint.Text(2));
          const auto signature = Unhex(checkpoint.Text(3));
          const bool key_ok = key && key->size() == crypto_sign_PUBLICKEYBYTES &&
                              (pinned_public_key.empty() || *key == pinned_public_key);
          const std::string message = CheckpointMessage(seq, checkpoint.Text(1));
          if (!key_ok || !signature || signature->size() != crypto_sign_BYTES ||
              crypto_sign_verify_detached(
                  reinterpret_cast<const unsigned char*>(signature->data()),
                  reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                  reinterpret_cast<const unsigned char*>(key->data())) != 0) {
            return fail(seq, "its signed checkpoint has a bad signature or an unexpected key");
          }
          if (checkpoint.Text(1) != entry.hash) {
            return fail(seq, "does not match its signed checkpoint (the chain was rewritten)");
          }
          ++verdict.checkpoints;
        } else {
          return fail(seq, "missing, but a signed checkpoint names it");
        }
        ++next_checkpoint;
      }
      expected_prev = entry.hash;
      ++expected_seq;
      ++verdict.entries;
    }
  }
  if (next_checkpoint < checkpoints.size()) {
    return fail(checkpoints[next_checkpoint].Int(0),
                "missing (deleted from the end), but a signed checkpoint names it");
  }
  MG_ASSIGN_OR_RETURN(SqlRows head, db.Query("SELECT seq, hash FROM audit_head WHERE id = 1", {}));
  if (head.empty()) return fail(expected_seq, "the chain head record is missing");
  if (head[0].Int(0) != expected_seq - 1 || head[0].Text(1) != expected_prev) {
    return fail(expected_seq, "missing (deleted from the end): the chain head records entry " +
                                  std::to_string(head[0].Int(0)));
  }
  return verdict;
}

}  // namespace mg::store
