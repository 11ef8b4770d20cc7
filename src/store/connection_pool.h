// ConnectionPool: a fixed set of connections to one database, lent to one
// thread at a time. Connections are opened lazily, so a pool over a database
// that is down can be created and starts working when the database comes
// back; a connection that fails to open is retried on the next Acquire.
//
// Thread safety: Acquire and the returned Lease may be used from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/sql.h"

namespace mg::store {

using ConnectionFactory = std::function<Result<std::unique_ptr<SqlConnection>>()>;

class ConnectionPool {
 public:
  ConnectionPool(ConnectionFactory factory, int size);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A borrowed connection, returned to the pool on destruction.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<SqlConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) = default;
    ~Lease();
    SqlConnection& operator*() const { return *connection_; }
    SqlConnection* operator->() const { return connection_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<SqlConnection> connection_;
  };

  // Waits for a free slot; opens a connection in it if it has none.
  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<SqlConnection> connection);

  ConnectionFactory factory_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;  // guarded by mutex_
  int free_slots_;                                    // guarded by mutex_
};

}  // namespace mg::store
