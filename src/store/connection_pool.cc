#include "store/connection_pool.h"

namespace mg::store {

ConnectionPool::ConnectionPool(ConnectionFactory factory, int size)
    : factory_(std::move(factory)), free_slots_(size < 1 ? 1 : size) {}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Release(std::move(connection_));
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_ptr<SqlConnection> connection;
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty() || free_slots_ > 0; });
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    --free_slots_;
  }
  auto opened = factory_();
  if (!opened.ok()) {
    std::lock_guard lock(mutex_);
    ++free_slots_;
    available_.notify_one();
    return opened.status();
  }
  return Lease(this, std::move(opened).value());
}

void ConnectionPool::Release(std::unique_ptr<SqlConnection> connection) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(connection));
  available_.notify_one();
}

}  // namespace mg::store
