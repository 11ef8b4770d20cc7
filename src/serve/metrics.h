// Metrics: the server's Prometheus counters, gauges and histograms, rendered
// in the Prometheus text exposition format (version 0.0.4) for /metrics.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::serve {

// A cumulative histogram with fixed upper bounds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends the _bucket, _sum and _count lines of `name`.
  void Render(std::string_view name, std::string* out) const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // guarded by mutex_; one per bound, plus +Inf
  double sum_ = 0;                // guarded by mutex_
  uint64_t count_ = 0;            // guarded by mutex_
};

class Metrics {
 public:
  Metrics();

  void CountRequest(std::string_view route, int status);
  void CountPii(std::string_view entity_type, uint64_t count);
  void CountTokens(int64_t tokens) { tokens_.fetch_add(tokens, std::memory_order_relaxed); }
  // A request refused for want of a key anyone holds (missing, malformed,
  // unknown); such requests are counted here, not stored or logged each.
  void CountUnauthenticated() { unauthenticated_.fetch_add(1, std::memory_order_relaxed); }
  // A connection closed at once because --max-connections were open.
  void CountRefusedConnection() { refused_connections_.fetch_add(1, std::memory_order_relaxed); }

  // Latencies are observed in seconds, sizes in requests and tokens.
  Histogram queue_seconds;
  Histogram tokenize_seconds;
  Histogram inference_seconds;
  Histogram total_seconds;
  Histogram batch_requests;
  Histogram batch_tokens;

  // Gauges read when rendering.
  void SetGauges(std::function<int64_t()> queue_depth, std::function<int64_t()> in_flight);

  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // guarded by mutex_
  std::map<std::string, uint64_t> pii_;                       // guarded by mutex_
  std::function<int64_t()> queue_depth_;                      // guarded by mutex_
  std::function<int64_t()> in_flight_;                        // guarded by mutex_
  std::atomic<int64_t> tokens_{0};
  std::atomic<int64_t> unauthenticated_{0};
  std::atomic<int64_t> refused_connections_{0};
};

}  // namespace mg::serve
