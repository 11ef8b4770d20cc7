// ControlPlane::ReleaseAbandoned: reservations whose request never finished
// (the replica that admitted it was killed, or its Finish failed while the
// database was away) are returned to their key's limits after a grace time.
#include "store/control_plane.h"

namespace mg::store {

Result<int64_t> ControlPlane::ReleaseAbandoned(int64_t older_than_ms, std::string_view actor) {
  if (older_than_ms < 0) return InvalidArgumentError("age must not be negative");
  MG_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  SqlConnection& db = *lease;
  const int64_t now = now_ms_();
  // This process's reservations first: requests admitted here whose Finish
  // never came. Nothing of them is in the database.
  int64_t released_here = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto it = reservations_.begin(); it != reservations_.end();) {
      if (it->second.admitted_ms < now - older_than_ms) {
        it = reservations_.erase(it);
        ++released_here;
      } else {
        ++it;
      }
    }
  }
  int64_t released = 0;
  Status status = AuditedTransaction(db, [&](std::vector<AuditCheckpoint>& signed_out) -> Status {
    released = released_here;
    // Ledger rows first, then key counters, then the audit head: the lock
    // order of Finish.
    MG_ASSIGN_OR_RETURN(
        SqlRows rows,
        db.Query(std::string("SELECT id, key_id, minute_ms, period_ms, reserved_tokens, "
                             "reserved_micro_usd FROM usage_ledger WHERE status = 0 AND "
                             "admitted_ms < $1 ORDER BY key_id, id") +
                     ForUpdate(db.dialect()),
                 {now - older_than_ms}));
    for (const SqlRow& row : rows) {
      MG_RETURN_IF_ERROR(
          db.Query("UPDATE usage_ledger SET status = -1, finished_ms = $2 WHERE id = $1",
                   {row.Int(0), now})
              .status());
      MG_RETURN_IF_ERROR(
          db.Query("UPDATE key_state SET "
                   "minute_tokens = minute_tokens - CASE WHEN minute_ms = $2 THEN $3 ELSE 0 END, "
                   "period_tokens = period_tokens - CASE WHEN period_ms = $4 THEN $3 ELSE 0 END, "
                   "period_micro_usd = period_micro_usd - "
                   "CASE WHEN period_ms = $4 THEN $5 ELSE 0 END WHERE key_id = $1",
                   {row.Text(1), row.Int(2), row.Int(4), row.Int(3), row.Int(5)})
              .status());
      ++released;
    }
    if (released == 0) return Status::Ok();
    return AuditAction(db, signed_out, actor, "reservations.release", "",
                       "released=" + std::to_string(released));
  });
  if (!status.ok()) return status;
  return released;
}

}  // namespace mg::store
