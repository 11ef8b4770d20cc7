// VerifyAuditChain: the walk over the whole chain, its signed checkpoints
// and the anchored ones (audit_chain.h).
#include <sodium.h>

#include <algorithm>
#include <map>

#include "store/audit_chain.h"

namespace mg::store {
namespace {

constexpr char kGenesisHash[] = "0000000000000000000000000000000000000000000000000000000000000000";

// The checkpoint rows by sequence number; a row whose key or signature is
// not hex keeps them empty, which no signature check accepts.
Result<std::map<int64_t, AuditCheckpoint>> ReadCheckpoints(SqlConnection& db) {
  MG_ASSIGN_OR_RETURN(
      SqlRows rows,
      db.Query("SELECT seq, hash, public_key, signature FROM audit_checkpoints ORDER BY seq", {}));
  std::map<int64_t, AuditCheckpoint> checkpoints;
  for (const SqlRow& row : rows) {
    AuditCheckpoint checkpoint;
    checkpoint.seq = row.Int(0);
    checkpoint.hash = row.Text(1);
    checkpoint.public_key = HexDecode(row.Text(2)).value_or("");
    checkpoint.signature = HexDecode(row.Text(3)).value_or("");
    checkpoints.emplace(checkpoint.seq, std::move(checkpoint));
  }
  return checkpoints;
}

}  // namespace

Result<AuditVerdict> VerifyAuditChain(SqlConnection& db, const AuditVerifyOptions& options) {
  EnsureSodium();
  AuditVerdict verdict;
  auto fail = [&verdict](int64_t seq, std::string problem) {
    verdict.intact = false;
    verdict.first_bad_seq = seq;
    verdict.problem = "audit entry " + std::to_string(seq) + ": " + std::move(problem);
    return verdict;
  };
  const std::string& pinned = options.pinned_public_key;
  const bool every_interval = !pinned.empty() && options.checkpoint_every > 0;
  MG_ASSIGN_OR_RETURN(auto checkpoints, ReadCheckpoints(db));

  // An anchored checkpoint is evidence only if it is signed (by the pinned
  // key when there is one).
  std::vector<AuditCheckpoint> anchor = options.anchor;
  std::stable_sort(anchor.begin(), anchor.end(),
                   [](const auto& a, const auto& b) { return a.seq < b.seq; });
  for (const AuditCheckpoint& anchored : anchor) {
    if (!CheckpointSignatureValid(anchored, pinned)) {
      return fail(anchored.seq,
                  "the anchor file's checkpoint for it has a bad signature or an unexpected key");
    }
  }
  size_t next_anchor = 0;

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
      const auto checkpoint = checkpoints.find(entry.seq);
      if (checkpoint != checkpoints.end()) {
        if (!CheckpointSignatureValid(checkpoint->second, pinned)) {
          return fail(entry.seq, "its signed checkpoint has a bad signature or an unexpected key");
        }
        if (checkpoint->second.hash != entry.hash) {
          return fail(entry.seq, "does not match its signed checkpoint (the chain was rewritten)");
        }
        ++verdict.checkpoints;
        verdict.last_checkpoint_seq = entry.seq;
      } else if (every_interval && entry.seq % options.checkpoint_every == 0) {
        return fail(entry.seq, "its signed checkpoint is missing (one is required every " +
                                   std::to_string(options.checkpoint_every) +
                                   " entries): checkpoints were deleted or the chain rewritten");
      }
      for (; next_anchor < anchor.size() && anchor[next_anchor].seq == entry.seq; ++next_anchor) {
        if (anchor[next_anchor].hash != entry.hash) {
          return fail(entry.seq,
                      "does not match the checkpoint in the anchor file (the chain was rewritten)");
        }
        if (checkpoint == checkpoints.end()) {
          return fail(entry.seq, "its checkpoint, recorded in the anchor file, was deleted");
        }
        ++verdict.anchored;
        verdict.last_anchored_seq = entry.seq;
      }
      if (next_anchor < anchor.size() && anchor[next_anchor].seq < entry.seq) {
        return fail(anchor[next_anchor].seq,
                    "the anchor file names an entry the chain cannot have");
      }
      expected_prev = entry.hash;
      ++expected_seq;
      ++verdict.entries;
    }
  }
  const int64_t last = expected_seq - 1;
  if (const auto beyond = checkpoints.upper_bound(last); beyond != checkpoints.end()) {
    return fail(beyond->first, "missing (deleted from the end), but a signed checkpoint names it");
  }
  if (next_anchor < anchor.size()) {
    return fail(anchor[next_anchor].seq,
                "missing (the chain was cut back to entry " + std::to_string(last) +
                    "), but the anchor file records a signed checkpoint at it");
  }
  MG_ASSIGN_OR_RETURN(SqlRows head, db.Query("SELECT seq, hash FROM audit_head WHERE id = 1", {}));
  if (head.empty()) return fail(expected_seq, "the chain head record is missing");
  if (head[0].Int(0) != last || head[0].Text(1) != expected_prev) {
    return fail(expected_seq, "missing (deleted from the end): the chain head records entry " +
                                  std::to_string(head[0].Int(0)));
  }
  return verdict;
}

}  // namespace mg::store
