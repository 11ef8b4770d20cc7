// The audit trail: an append-only hash chain in the audit_log table.
//
// Entry n carries hash_n = BLAKE2b-256(canonical(entry n) with hash_{n-1});
// the canonical form is every field, length-prefixed, in a fixed order (see
// docs/control-plane.md), so no two entries serialise alike. audit_head holds
// the last sequence number and hash: appending locks it (SELECT … FOR UPDATE
// on PostgreSQL, the write lock on SQLite), which gives all replicas one
// chain. Every `checkpoint_every` entries, when a signer is configured, the
// hash is signed with Ed25519 into audit_checkpoints; someone who can edit the
// database but lacks the signing key cannot rewrite the chain before the last
// checkpoint without the verifier noticing.
//
// Entries never hold request or response text: who, when, what, route,
// status, tokens and a short detail.
//
// Thread safety: free functions on a connection the caller owns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql.h"

namespace mg::store {

struct AuditEntry {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  std::string actor;   // key name, "cli", or "anonymous"
  std::string action;  // "request", "key.create", "key.revoke", "price.set", …
  std::string target;  // request id, key name, route
  std::string route;
  int status = 0;
  int64_t tokens = 0;
  std::string detail;
  std::string prev_hash;  // hex
  std::string hash;       // hex
};

// Signs checkpoints. `public_key` is the 32-byte Ed25519 public key and
// `sign` returns the 64-byte signature of a message.
struct AuditSigner {
  std::string public_key;
  std::function<std::string(std::string_view)> sign;
  int64_t checkpoint_every = 1000;
};

// The hash entry `entry` must carry, given its prev_hash and fields.
std::string ComputeAuditHash(const AuditEntry& entry);

// The message a checkpoint signs.
std::string CheckpointMessage(int64_t seq, std::string_view hash);

// Appends `entries` in order (their seq, prev_hash and hash are filled in)
// inside the caller's write transaction, taking the head lock once.
// `signer` may be null. Take this lock last in a transaction: every other
// row lock comes before it, so appenders cannot deadlock.
Status AppendAudit(SqlConnection& db, std::vector<AuditEntry>& entries, const AuditSigner* signer);
inline Status AppendAudit(SqlConnection& db, AuditEntry& entry, const AuditSigner* signer) {
  std::vector<AuditEntry> one{std::move(entry)};
  Status status = AppendAudit(db, one, signer);
  entry = std::move(one[0]);
  return status;
}

struct AuditVerdict {
  bool intact = true;
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;        // names the first bad entry and what is wrong
};

// Walks the whole chain in order. `pinned_public_key` (32 raw bytes, or
// empty to accept the key recorded with each checkpoint) is the key every
// checkpoint must be signed with.
Result<AuditVerdict> VerifyAuditChain(SqlConnection& db, std::string_view pinned_public_key);

// Up to `limit` entries with seq > `after_seq`, in order.
Result<std::vector<AuditEntry>> ReadAuditEntries(SqlConnection& db, int64_t after_seq,
                                                 int64_t limit);

}  // namespace mg::store
