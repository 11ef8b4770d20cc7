#include "serve/batcher.h"

#include <algorithm>

namespace mg::serve {
namespace {

double MillisecondsBetween(std::chrono::steady_clock::time_point from,
                           std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

Batcher::Batcher(BatcherOptions options, BatchRunner runner)
    : options_(std::move(options)), runner_(std::move(runner)) {
  thread_ = std::thread([this] { Loop(); });
}

Batcher::~Batcher() { Stop(); }

void Batcher::Submit(std::unique_ptr<BatchJob> job) {
  job->enqueued = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      job = nullptr;
    }
  }
  if (!job) {
    // Outside the lock: the inference thread does not wake to a held mutex.
    wake_.notify_one();
    return;
  }
  BatchResult result;
  result.status = InternalError("the server is shutting down");
  job->done(std::move(result));
}

void Batcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

size_t Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void Batcher::Loop() {
  if (options_.on_start) options_.on_start();
  for (;;) {
    std::vector<std::unique_ptr<BatchJob>> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      jobs = TakeBatch();
    }
    Run(std::move(jobs));
  }
}

std::vector<std::unique_ptr<BatchJob>> Batcher::TakeBatch() {
  std::vector<std::unique_ptr<BatchJob>> jobs;
  const Task task = queue_.front()->task;
  int64_t tokens = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    BatchJob& job = **it;
    if (job.task != task) {
      ++it;
      continue;
    }
    const int64_t job_tokens = job.sequences.tokens();
    if (!jobs.empty() && (tokens + job_tokens > options_.max_batch_tokens ||
                          static_cast<int>(jobs.size()) >= options_.max_batch_requests)) {
      break;
    }
    tokens += job_tokens;
    jobs.push_back(std::move(*it));
    it = queue_.erase(it);
  }
  return jobs;
}

void Batcher::Run(std::vector<std::unique_ptr<BatchJob>> jobs) {
  const auto start = std::chrono::steady_clock::now();
  // Requests whose deadline passed while queued are answered without running.
  std::vector<std::unique_ptr<BatchJob>> live;
  for (auto& job : jobs) {
    if (job->deadline <= start) {
      BatchResult result;
      result.status = InternalError("the request timed out in the queue");
      result.queue_ms = MillisecondsBetween(job->enqueued, start);
      job->done(std::move(result));
    } else {
      live.push_back(std::move(job));
    }
  }
  if (live.empty()) return;
  packed_.Clear();
  for (const auto& job : live) {
    const model::PackedBatch& seqs = job->sequences;
    const int64_t base = packed_.tokens();
    packed_.ids.insert(packed_.ids.end(), seqs.ids.begin(), seqs.ids.end());
    packed_.type_ids.insert(packed_.type_ids.end(), seqs.type_ids.begin(), seqs.type_ids.end());
    for (int64_t s = 1; s <= seqs.sequences(); ++s)
      packed_.offsets.push_back(base + seqs.offsets[s]);
  }
  int64_t width = 0;
  runner_(live.front()->task, packed_, &out_, &width);
  const auto end = std::chrono::steady_clock::now();
  const double inference_ms = MillisecondsBetween(start, end);
  if (options_.on_batch) {
    options_.on_batch(static_cast<int>(live.size()), packed_.tokens(), inference_ms);
  }
  int64_t row = 0;
  for (auto& job : live) {
    BatchResult result;
    const int64_t rows =
        job->task == Task::kEmbedTokens ? job->sequences.tokens() : job->sequences.sequences();
    result.width = width;
    result.values.assign(out_.begin() + row * width, out_.begin() + (row + rows) * width);
    row += rows;
    result.queue_ms = MillisecondsBetween(job->enqueued, start);
    result.inference_ms = inference_ms;
    result.batch_requests = static_cast<int>(live.size());
    job->done(std::move(result));
  }
}

}  // namespace mg::serve
