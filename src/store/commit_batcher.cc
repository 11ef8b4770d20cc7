#include "store/commit_batcher.h"

#include <algorithm>
#include <vector>

namespace mg::store {

struct CommitBatcher::Waiter {
  const std::string* order_key;
  const Op* op;
  const std::string* lock_first;
  Status status;
  bool done = false;
  std::condition_variable wake;
};

Status CommitBatcher::Run(const std::string& order_key, const Op& op,
                          const std::string& lock_first) {
  Waiter self{&order_key, &op, &lock_first, Status::Ok(), false, {}};
  std::unique_lock lock(mutex_);
  queue_.push_back(&self);
  // Wait until done by another leader's batch, or until first in line while a
  // batch may start.
  while (!self.done && !(queue_.front() == &self && in_flight_ < max_in_flight_)) {
    self.wake.wait(lock);
  }
  if (self.done) return self.status;
  // Leader: take what is queued (self first) and run it as one batch.
  const size_t count = std::min(queue_.size(), max_batch_);
  std::vector<Waiter*> batch(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(count));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(count));
  ++in_flight_;
  // The next in line may lead another batch at once if one more may run.
  if (!queue_.empty() && in_flight_ < max_in_flight_) queue_.front()->wake.notify_one();
  lock.unlock();
  ExecuteBatch(batch);
  lock.lock();
  --in_flight_;
  for (Waiter* waiter : batch) {
    waiter->done = true;
    if (waiter != &self) waiter->wake.notify_one();
  }
  if (!queue_.empty()) queue_.front()->wake.notify_one();
  return self.status;
}

void CommitBatcher::ExecuteBatch(std::vector<Waiter*> batch) {
  std::stable_sort(batch.begin(), batch.end(),
                   [](const Waiter* a, const Waiter* b) { return *a->order_key < *b->order_key; });
  auto lease = pool_->Acquire();
  if (!lease.ok()) {
    for (Waiter* waiter : batch) waiter->status = lease.status();
    return;
  }
  SqlConnection& db = **lease;
  const Status status = RunInTransaction(db, batch);
  if (status.ok()) return;
  if (batch.size() == 1 || IsUnavailable(status)) {
    for (Waiter* waiter : batch) waiter->status = status;
    return;
  }
  // Something failed: nothing of the batch committed. Run each alone.
  for (Waiter* waiter : batch) {
    const Status alone = RunInTransaction(db, {waiter});
    if (!alone.ok()) waiter->status = alone;
  }
}

Status CommitBatcher::RunInTransaction(SqlConnection& db, const std::vector<Waiter*>& ops) {
  std::vector<AuditEntry> audit;
  std::vector<AuditCheckpoint> signed_checkpoints;
  const Status status = InTransaction(db, [&]() -> Status {
    if (lock_first_) {
      std::vector<std::string> rows;
      for (const Waiter* waiter : ops) {
        if (!waiter->lock_first->empty()) rows.push_back(*waiter->lock_first);
      }
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      if (!rows.empty()) MG_RETURN_IF_ERROR(lock_first_(db, rows));
    }
    for (Waiter* waiter : ops) {
      waiter->status = (*waiter->op)(db, audit);
      if (!waiter->status.ok()) return waiter->status;
    }
    return AppendAudit(db, audit, signer_, &signed_checkpoints);
  });
  if (status.ok()) AnchorCommitted(signer_, signed_checkpoints);
  return status;
}

}  // namespace mg::store
