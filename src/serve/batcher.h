// Batcher: dynamic batching of inference requests. Requests from many clients
// arrive already tokenised; one inference thread takes as many waiting
// requests of the same task as fit in `max_batch_tokens` and
// `max_batch_requests`, packs their sequences into one PackedBatch (no
// padding), runs it, and hands each request its own rows. While a batch runs,
// new requests queue up and form the next one, so the batch size follows the
// load without any waiting window.
//
// Thread safety: Submit(), queue_depth() and Stop() may be called from any
// thread. Each job's `done` runs exactly once, on the inference thread (or on
// the thread calling Stop() for jobs refused after it); it must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "model/bert_encoder.h"

namespace mg::serve {

// kEmbed: one pooled row per sequence; kClassify: one row of scores per
// sequence; kEmbedTokens: one row of hidden states per token.
enum class Task { kEmbed, kClassify, kEmbedTokens };

struct BatchResult {
  Status status;  // Ok, or why the job was not run (timeout, shutdown)
  // [sequences, width] rows of this job ([tokens, width] for kEmbedTokens).
  std::vector<float> values;
  int64_t width = 0;
  double queue_ms = 0;      // from Submit() to the start of its batch
  double inference_ms = 0;  // the batch's forward pass
  int batch_requests = 0;   // requests in the batch this job ran in
};

struct BatchJob {
  Task task = Task::kEmbed;
  model::PackedBatch sequences;  // this request's tokenised inputs
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<void(BatchResult)> done;
  std::chrono::steady_clock::time_point enqueued{};  // set by Submit()
};

// Runs one packed batch of `task`: writes [sequences, *width] floats to `out`
// ([tokens, *width] for kEmbedTokens).
using BatchRunner = std::function<void(Task task, const model::PackedBatch& batch,
                                       std::vector<float>* out, int64_t* width)>;

struct BatcherOptions {
  int64_t max_batch_tokens = 16384;
  int max_batch_requests = 64;
  // Called on the inference thread when it starts (e.g. to set its GEMM
  // thread count, which OpenMP keeps per thread).
  std::function<void()> on_start;
  // Called on the inference thread after every batch.
  std::function<void(int requests, int64_t tokens, double inference_ms)> on_batch;
};

class Batcher {
 public:
  // Starts the inference thread.
  Batcher(BatcherOptions options, BatchRunner runner);
  // Stop().
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `job`; never blocks on inference. After Stop(), the job is
  // answered at once with an error saying the server is shutting down.
  void Submit(std::unique_ptr<BatchJob> job);

  // Runs what is queued, then ends the inference thread. Idempotent.
  void Stop();

  size_t queue_depth() const;

 private:
  void Loop();
  // Takes the next batch off the queue (guarded by mutex_).
  std::vector<std::unique_ptr<BatchJob>> TakeBatch();
  void Run(std::vector<std::unique_ptr<BatchJob>> jobs);

  const BatcherOptions options_;
  const BatchRunner runner_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<BatchJob>> queue_;  // guarded by mutex_
  bool stopping_ = false;                        // guarded by mutex_
  std::thread thread_;
  model::PackedBatch packed_;  // inference thread only
  std::vector<float> out_;     // inference thread only
};

}  // namespace mg::serve
