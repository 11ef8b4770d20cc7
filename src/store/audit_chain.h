// The audit trail: an append-only hash chain in the audit_log table.
//
// Entry n carries hash_n = BLAKE2b-256(canonical(entry n) with hash_{n-1});
// the canonical form is every field, length-prefixed, in a fixed order (see
// docs/control-plane.md), so no two entries serialise alike. audit_head holds
// the last sequence number and hash: appending locks it (SELECT … FOR UPDATE
// on PostgreSQL, the write lock on SQLite), which gives all replicas one
// chain. Every `checkpoint_every` entries, when a signer is configured, the
// hash is signed with Ed25519 into audit_checkpoints, and, once committed,
// handed to the signer's anchor (an append-only file outside the database,
// audit_anchor.h). A verifier holding the public key requires a checkpoint
// at every interval, so someone who can write the database but lacks the
// signing key cannot rewrite the chain before the last checkpoint unnoticed;
// the anchor also catches a chain cut back (with its checkpoints) to before
// an anchored checkpoint. What each protects: docs/control-plane.md.
//
// Entries never hold request or response text: who, when, what, route,
// status, tokens and a short detail.
//
// Thread safety: free functions on a connection the caller owns.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "store/sql.h"

namespace mg::store {

// Keys and signatures are stored as hex (base/bytes.h).
using ::mg::HexDecode;
using ::mg::HexEncode;

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

// Entries per signed checkpoint unless a signer says otherwise; verifiers
// without other knowledge require a checkpoint at every multiple of it.
inline constexpr int64_t kAuditCheckpointEvery = 1000;

// A signed checkpoint: entry `seq` had chain hash `hash` (hex). `public_key`
// (32 bytes) and `signature` (64 bytes) are raw.
struct AuditCheckpoint {
  int64_t seq = 0;
  std::string hash;
  std::string public_key;
  std::string signature;
};

// Signs checkpoints. `public_key` is the 32-byte Ed25519 public key and
// `sign` returns the 64-byte signature of a message. `anchor` (may be empty)
// receives each checkpoint after the transaction that wrote it committed,
// from whichever thread committed it, so it must be thread-safe.
struct AuditSigner {
  std::string public_key;
  std::function<std::string(std::string_view)> sign;
  int64_t checkpoint_every = kAuditCheckpointEvery;
  std::function<void(const AuditCheckpoint&)> anchor;
};

// The hash entry `entry` must carry, given its prev_hash and fields.
std::string ComputeAuditHash(const AuditEntry& entry);

// The message a checkpoint signs.
std::string CheckpointMessage(int64_t seq, std::string_view hash);

// Whether `checkpoint` is signed by its own key, which must equal `pinned`
// (32 raw bytes) unless `pinned` is empty.
bool CheckpointSignatureValid(const AuditCheckpoint& checkpoint, std::string_view pinned);

// Appends `entries` in order (their seq, prev_hash and hash are filled in)
// inside the caller's write transaction, taking the head lock once.
// `signer` may be null; the checkpoints it signed are added to `signed_out`
// (may be null), which the caller hands to AnchorCommitted after its commit.
// Take this lock last in a transaction: every other row lock comes before
// it, so appenders cannot deadlock.
Status AppendAudit(SqlConnection& db, std::vector<AuditEntry>& entries, const AuditSigner* signer,
                   std::vector<AuditCheckpoint>* signed_out);
inline Status AppendAudit(SqlConnection& db, AuditEntry& entry, const AuditSigner* signer,
                          std::vector<AuditCheckpoint>* signed_out) {
  std::vector<AuditEntry> one{std::move(entry)};
  Status status = AppendAudit(db, one, signer, signed_out);
  entry = std::move(one[0]);
  return status;
}

// Hands `committed` to the signer's anchor, if it has one. Call only after
// the transaction that wrote them committed: an anchored checkpoint that
// never reached the database would read as a rollback.
void AnchorCommitted(const AuditSigner* signer, const std::vector<AuditCheckpoint>& committed);

struct AuditVerdict {
  bool intact = true;
  int64_t entries = 0;
  int64_t checkpoints = 0;          // signed checkpoints checked
  int64_t last_checkpoint_seq = 0;  // entries after it are only hash-chained
  int64_t anchored = 0;             // anchored checkpoints found in the chain
  int64_t last_anchored_seq = 0;
  int64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;        // names the first bad entry and what is wrong
};

struct AuditVerifyOptions {
  // 32 raw bytes: every checkpoint must be signed with this key, and every
  // `checkpoint_every`-th entry must have one (a missing checkpoint fails).
  // Empty: checkpoints are checked against the key recorded with each, and
  // none is required, so a consistent rewrite goes unnoticed.
  std::string pinned_public_key;
  int64_t checkpoint_every = kAuditCheckpointEvery;
  // Checkpoints kept outside the database (ReadAuditAnchor): each must be in
  // the chain with the same hash and its checkpoint row, so the chain cannot
  // be rewritten or cut back to before the newest of them.
  std::vector<AuditCheckpoint> anchor;
};

// Walks the whole chain in order and stops at the first problem.
Result<AuditVerdict> VerifyAuditChain(SqlConnection& db, const AuditVerifyOptions& options);

// How many signed checkpoints the chain has (0: it was never signed).
Result<int64_t> CountAuditCheckpoints(SqlConnection& db);

// Up to `limit` entries with seq > `after_seq`, in order.
Result<std::vector<AuditEntry>> ReadAuditEntries(SqlConnection& db, int64_t after_seq,
                                                 int64_t limit);

}  // namespace mg::store
