// WorkerPool: a fixed set of threads that run posted tasks in FIFO order.
// The server runs request parsing, PII analysis, tokenisation, the gate and
// reply formatting here, off the I/O threads and off the inference thread.
//
// Thread safety: Post() and Stop() may be called from any thread. Tasks must
// not throw.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mg::serve {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(std::function<void()> task);
  // Runs every task posted so far (and those they post), then joins. Idempotent.
  void Stop();

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace mg::serve
