#include "serve/batcher.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

namespace mg::serve {
namespace {

// A job of `count` sequences of `length` tokens; token ids name the job.
std::unique_ptr<BatchJob> Job(Task task, int id, int count, int length,
                              std::promise<BatchResult>* promise) {
  auto job = std::make_unique<BatchJob>();
  job->task = task;
  for (int s = 0; s < count; ++s) {
    for (int t = 0; t < length; ++t) {
      job->sequences.ids.push_back(id);
      job->sequences.type_ids.push_back(0);
    }
    job->sequences.offsets.push_back(job->sequences.tokens());
  }
  job->done = [promise](BatchResult result) { promise->set_value(std::move(result)); };
  return job;
}

// A runner that records batches and, per sequence, emits [first id, length].
struct Recorder {
  std::mutex mutex;
  std::vector<std::pair<Task, int64_t>> batches;  // task, sequences
  std::promise<void> first_started;
  std::shared_future<void> release;
  bool first = true;

  BatchRunner Runner() {
    return [this](Task task, const model::PackedBatch& batch, std::vector<float>* out,
                  int64_t* width) {
      bool wait = false;
      {
        std::lock_guard<std::mutex> lock(mutex);
        batches.emplace_back(task, batch.sequences());
        wait = first;
        first = false;
      }
      if (wait) {
        first_started.set_value();
        release.wait();
      }
      *width = 2;
      out->clear();
      for (int64_t s = 0; s < batch.sequences(); ++s) {
        out->push_back(static_cast<float>(batch.ids[static_cast<size_t>(batch.offsets[s])]));
        out->push_back(static_cast<float>(batch.length(s)));
      }
    };
  }
};

TEST(BatcherTest, GroupsWaitingRequestsAndSplitsResults) {
  Recorder recorder;
  std::promise<void> release;
  recorder.release = release.get_future().share();
  BatcherOptions options;
  options.max_batch_tokens = 1000;
  options.max_batch_requests = 3;
  Batcher batcher(options, recorder.Runner());
  std::vector<std::promise<BatchResult>> promises(6);
  // The first job blocks the inference thread while the others queue up.
  batcher.Submit(Job(Task::kEmbed, 100, 1, 4, &promises[0]));
  recorder.first_started.get_future().wait();
  batcher.Submit(Job(Task::kEmbed, 101, 2, 3, &promises[1]));
  batcher.Submit(Job(Task::kClassify, 102, 1, 5, &promises[2]));
  batcher.Submit(Job(Task::kEmbed, 103, 1, 6, &promises[3]));
  batcher.Submit(Job(Task::kEmbed, 104, 3, 2, &promises[4]));
  batcher.Submit(Job(Task::kEmbed, 105, 1, 1, &promises[5]));
  EXPECT_EQ(batcher.queue_depth(), 5u);
  release.set_value();
  std::vector<BatchResult> results;
  for (auto& promise : promises) results.push_back(promise.get_future().get());
  // Embed jobs 101, 103, 104 ran together (3 requests at most), then the
  // classify job, then job 105.
  ASSERT_EQ(recorder.batches.size(), 4u);
  EXPECT_EQ(recorder.batches[1], std::make_pair(Task::kEmbed, int64_t{6}));
  EXPECT_EQ(recorder.batches[2], std::make_pair(Task::kClassify, int64_t{1}));
  EXPECT_EQ(recorder.batches[3], std::make_pair(Task::kEmbed, int64_t{1}));
  const int lengths[] = {4, 3, 5, 6, 2, 1};
  const int counts[] = {1, 2, 1, 1, 3, 1};
  for (int j = 0; j < 6; ++j) {
    ASSERT_TRUE(results[j].status.ok()) << j;
    ASSERT_EQ(results[j].values.size(), static_cast<size_t>(counts[j] * 2)) << j;
    for (int s = 0; s < counts[j]; ++s) {
      EXPECT_EQ(results[j].values[s * 2], 100 + j);
      EXPECT_EQ(results[j].values[s * 2 + 1], lengths[j]);
    }
  }
  EXPECT_EQ(results[1].batch_requests, 3);
}

TEST(BatcherTest, TokenBudgetSplitsBatches) {
  Recorder recorder;
  std::promise<void> release;
  recorder.release = release.get_future().share();
  BatcherOptions options;
  options.max_batch_tokens = 10;
  Batcher batcher(options, recorder.Runner());
  std::vector<std::promise<BatchResult>> promises(4);
  batcher.Submit(Job(Task::kEmbed, 1, 1, 1, &promises[0]));
  recorder.first_started.get_future().wait();
  for (int j = 1; j < 4; ++j) batcher.Submit(Job(Task::kEmbed, j, 1, 4, &promises[j]));
  release.set_value();
  for (auto& promise : promises) EXPECT_TRUE(promise.get_future().get().status.ok());
  ASSERT_EQ(recorder.batches.size(), 3u);  // 1, then 4+4, then 4
  EXPECT_EQ(recorder.batches[1].second, 2);
  EXPECT_EQ(recorder.batches[2].second, 1);
}

TEST(BatcherTest, ExpiredRequestsAreNotRun) {
  Recorder recorder;
  std::promise<void> release;
  recorder.release = release.get_future().share();
  Batcher batcher({}, recorder.Runner());
  std::promise<BatchResult> first, late;
  batcher.Submit(Job(Task::kEmbed, 1, 1, 1, &first));
  recorder.first_started.get_future().wait();
  auto job = Job(Task::kEmbed, 2, 1, 1, &late);
  job->deadline = std::chrono::steady_clock::now();
  batcher.Submit(std::move(job));
  release.set_value();
  EXPECT_TRUE(first.get_future().get().status.ok());
  EXPECT_FALSE(late.get_future().get().status.ok());
  EXPECT_EQ(recorder.batches.size(), 1u);
}

TEST(BatcherTest, SubmitAfterStopAnswersAtOnce) {
  Recorder recorder;
  std::promise<void> release;
  release.set_value();
  recorder.release = release.get_future().share();
  recorder.first = false;
  Batcher batcher({}, recorder.Runner());
  batcher.Stop();
  std::promise<BatchResult> promise;
  batcher.Submit(Job(Task::kEmbed, 1, 1, 1, &promise));
  EXPECT_FALSE(promise.get_future().get().status.ok());
}

}  // namespace
}  // namespace mg::serve
