// ExtractionMonitor: the extraction alarm of `modelgate serve
// --extraction-alarm`. Per API key it keeps a running statistic of the
// key's query stream that separates ordinary use from model extraction
// (docs/threat-model.md, "Extraction alarm"):
//
//  - PRADA (Juuti et al., 2019): each query's minimum distance to the key's
//    earlier queries of the same predicted class (a repeated query is left
//    out: it yields nothing new); the distribution of these
//    distances is tested for normality with Shapiro-Wilk (shapiro_wilk.h)
//    every `test_every` queries after `warmup` distances, and W below
//    `w_threshold` raises the alarm. Natural queries give a roughly normal
//    distribution; synthetic ones (random tokens or words, perturbations of
//    earlier queries) do not.
//  - Coverage: the fraction of the key's recent tokens it had never sent
//    before. Ordinary traffic repeats its vocabulary; a walk through the
//    model's vocabulary does not. Above `novelty_threshold` raises the alarm.
//
// A query is represented by its bag of tokens (the model's token ids, minus
// special tokens, counts L2-normalised): the server has it for every route,
// and /predict does not compute the pooled embedding. Distances are
// Euclidean between these unit vectors. The query's text is never kept.
//
// Memory is bounded per key (the last `max_queries` representations of at
// most `max_tokens_per_query` distinct tokens each, the last `max_distances`
// distances, one bit per vocabulary token) and in all (`max_keys`; the key
// idle longest is forgotten to make room).
//
// Once a key has alarmed it alarms no more (until it is forgotten); with the
// throttle action it is then held to `throttle_per_minute` requests a minute
// for `throttle_seconds` (Throttled()).
//
// Thread safety: every method may be called from any thread; keys are
// observed under their own lock, so different keys do not wait on each other
// beyond a map lookup.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "serve/metrics.h"

namespace mg::serve {

// What the server does when a key alarms, besides the metrics, the log line
// and the audit entry: nothing more, hold the key to a few requests a minute
// in this server's memory, answer it with labels only from then on (its
// output policy tightened to "label" in this server's memory), or revoke it
// in the control plane (every server sharing it refuses the key from then on).
enum class ExtractionAction { kNone, kThrottle, kDegrade, kSuspend };

// "none", "throttle", "degrade", "suspend".
Result<ExtractionAction> ParseExtractionAction(std::string_view name);
const char* ExtractionActionName(ExtractionAction action);

struct ExtractionOptions {
  int warmup = 100;     // distances before the first test
  int test_every = 10;  // queries between tests
  double w_threshold = 0.80;
  double novelty_threshold = 0.7;
  int novelty_window = 100;  // queries the novelty fraction is taken over
  int max_queries = 512;     // representations kept per key
  int max_tokens_per_query = 64;
  int max_distances = 1000;  // most recent minimum distances kept per key
  int max_keys = 1024;
  int32_t vocab_size = 0;  // token ids at or above it are ignored
  // Throttle action: requests a minute allowed to an alarmed key, and for
  // how long after the alarm (0 disables throttling).
  int throttle_per_minute = 0;
  int64_t throttle_seconds = 3600;
};

// What raised an alarm.
struct ExtractionAlarm {
  std::string key_id, key_name;
  std::string signal;   // "shapiro_wilk" or "novelty"
  double w = 1;         // the last Shapiro-Wilk W (1 before the first test)
  double novelty = 0;   // the last novelty fraction
  int64_t queries = 0;  // queries the key was seen to make
};

// A test result, for the metrics' histogram.
struct ExtractionTest {
  double w = 1;
  double novelty = 0;
};

class ExtractionMonitor {
 public:
  explicit ExtractionMonitor(ExtractionOptions options);
  ~ExtractionMonitor();
  ExtractionMonitor(const ExtractionMonitor&) = delete;
  ExtractionMonitor& operator=(const ExtractionMonitor&) = delete;

  // One query of `key_id`: its tokens (special tokens left out), its
  // predicted class (0 for routes without one), at `now_s` (any monotonic
  // clock in seconds). The alarm, the first time the key raises it; `test`
  // is set when a test ran.
  std::optional<ExtractionAlarm> Observe(const std::string& key_id, const std::string& key_name,
                                         std::span<const int32_t> tokens, int32_t group,
                                         double now_s, std::optional<ExtractionTest>* test);

  // With the throttle action: whether `key_id` is over its cap at `now_s`
  // (and counts this request towards it when not); `retry_after_s` is set to
  // when it may try again.
  bool Throttled(const std::string& key_id, double now_s, int* retry_after_s);

  // Keys tracked now; the last W of each key that alarmed (for /metrics,
  // bounded by max_keys).
  size_t keys() const;
  bool Tracks(const std::string& key_id) const;
  std::map<std::string, double> alarmed() const;
  const ExtractionOptions& options() const { return options_; }

  // Counts a request Throttled() refused (for /metrics).
  void CountThrottled() { throttled_.fetch_add(1, std::memory_order_relaxed); }
  // Prometheus text: keys tracked, the tests' W and novelty, alarms by
  // signal, throttled requests, and the last W of each key that alarmed
  // (labelled by key id; no other metric has a per-key label).
  std::string MetricsText() const;

 private:
  struct KeyState;
  std::shared_ptr<KeyState> Find(const std::string& key_id, double now_s, bool create);

  const ExtractionOptions options_;
  Histogram w_;        // each test's W
  Histogram novelty_;  // each test's novelty fraction
  std::atomic<int64_t> shapiro_wilk_alarms_{0}, novelty_alarms_{0}, throttled_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<KeyState>> keys_;  // guarded by mutex_
};

}  // namespace mg::serve
