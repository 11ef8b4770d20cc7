// CommitBatcher: group commit for the per-request transactions (Admit and
// Finish). Concurrent callers queue their operations; the first in line runs
// a batch of them in one transaction and one commit (one fsync, one turn at
// the audit chain's head lock) and wakes the others. Every caller returns
// only after its operation committed, so batching never loses an
// acknowledged write.
//
// Operations run sorted by `order_key` (the key's hash), so every batch, in
// every process, locks key rows in the same order; operations hand their
// audit entries to the batch, which appends them all at the end, so the
// audit head is always the last lock taken: batches on several replicas
// cannot deadlock. When a batch fails, each of
// its operations is retried alone in its own transaction, so one failing
// operation never fails the others; operations must therefore be safe to
// run again from the start (they reset their outputs first). When the
// database is unavailable, nothing is retried: a lost COMMIT may have
// landed, and running an operation twice must not be a possibility.
//
// An operation may also name a row that must be locked before anything else
// (`lock_first`, e.g. a licence's counters, which operations of several keys
// share): a batch first locks every such row of its operations, in sorted
// order, through the LockFirst function, so that a shared row is never
// locked after a key's row and batches still cannot deadlock.
//
// Up to `max_in_flight` batches run at once, each on its own pooled
// connection (at most the pool's size; SQLite has one writer anyway). Concurrent
// batches are safe for the same reason batches of several replicas are: each
// takes its row locks in the same global order (lock_first rows, keys by
// hash, audit head last), so they queue on shared rows and never deadlock;
// the statements of different keys' requests overlap instead of waiting for
// one batch's round trips.
//
// Thread safety: Run may be called from any number of threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "store/audit_chain.h"
#include "store/connection_pool.h"

namespace mg::store {

class CommitBatcher {
 public:
  // An operation runs its statements on the connection and adds its audit
  // entries to the vector.
  using Op = std::function<Status(SqlConnection&, std::vector<AuditEntry>&)>;
  // Locks the named rows (sorted, distinct) at the start of a transaction.
  using LockFirst = std::function<Status(SqlConnection&, const std::vector<std::string>&)>;

  // `signer` (may be null) signs audit checkpoints and gets them back for
  // its anchor once their batch committed; it must outlive this.
  CommitBatcher(ConnectionPool* pool, size_t max_batch, const AuditSigner* signer,
                LockFirst lock_first = nullptr, size_t max_in_flight = 1)
      : pool_(pool),
        max_batch_(max_batch),
        max_in_flight_(max_in_flight < 1 ? 1 : max_in_flight),
        signer_(signer),
        lock_first_(std::move(lock_first)) {}
  CommitBatcher(const CommitBatcher&) = delete;
  CommitBatcher& operator=(const CommitBatcher&) = delete;

  // Runs `op` in a write transaction shared with other callers' operations;
  // returns its status once committed (or the reason nothing was).
  // `lock_first` (empty: none) is handed to LockFirst before any operation.
  Status Run(const std::string& order_key, const Op& op, const std::string& lock_first = {});

 private:
  struct Waiter;
  void ExecuteBatch(std::vector<Waiter*> batch);
  Status RunInTransaction(SqlConnection& db, const std::vector<Waiter*>& ops);

  ConnectionPool* pool_;
  const size_t max_batch_;
  const size_t max_in_flight_;
  const AuditSigner* signer_;
  const LockFirst lock_first_;
  std::mutex mutex_;
  std::deque<Waiter*> queue_;  // guarded by mutex_; not yet taken by a batch, oldest first
  size_t in_flight_ = 0;       // guarded by mutex_; batches running
};

}  // namespace mg::store
