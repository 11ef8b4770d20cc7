#include "serve/metrics.h"

#include <cstdio>

namespace mg::serve {
namespace {

std::vector<double> LatencyBounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::vector<double> PowersOfTwo(double last) {
  std::vector<double> bounds;
  for (double b = 1; b <= last; b *= 2) bounds.push_back(b);
  return bounds;
}

void AppendNumber(std::string* out, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  out->append(buffer);
}

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  std::lock_guard<std::mutex> lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

void Histogram::Render(std::string_view name, std::string* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= bounds_.size(); ++b) {
    cumulative += counts_[b];
    out->append(name).append("_bucket{le=\"");
    if (b == bounds_.size()) {
      out->append("+Inf");
    } else {
      AppendNumber(out, bounds_[b]);
    }
    out->append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  out->append(name).append("_sum ");
  AppendNumber(out, sum_);
  out->append("\n").append(name).append("_count ").append(std::to_string(count_)).append("\n");
}

Metrics::Metrics()
    : queue_seconds(LatencyBounds()),
      tokenize_seconds(LatencyBounds()),
      inference_seconds(LatencyBounds()),
      total_seconds(LatencyBounds()),
      batch_requests(PowersOfTwo(1024)),
      batch_tokens(PowersOfTwo(1 << 20)) {}

void Metrics::CountRequest(std::string_view route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{std::string(route), status}];
}

void Metrics::CountPii(std::string_view entity_type, uint64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  pii_[std::string(entity_type)] += count;
}

void Metrics::SetGauges(std::function<int64_t()> queue_depth, std::function<int64_t()> in_flight) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_depth_ = std::move(queue_depth);
  in_flight_ = std::move(in_flight);
}

std::string Metrics::Render() const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Header(&out, "modelgate_requests_total", "counter", "HTTP requests by route and status.");
    for (const auto& [key, count] : requests_) {
      out.append("modelgate_requests_total{route=\"").append(key.first);
      out.append("\",status=\"").append(std::to_string(key.second)).append("\"} ");
      out.append(std::to_string(count)).append("\n");
    }
    Header(&out, "modelgate_pii_detections_total", "counter",
           "PII entities found in request text, by entity type.");
    for (const auto& [type, count] : pii_) {
      out.append("modelgate_pii_detections_total{entity_type=\"").append(type).append("\"} ");
      out.append(std::to_string(count)).append("\n");
    }
    Header(&out, "modelgate_queue_depth", "gauge", "Requests waiting for the inference thread.");
    out.append("modelgate_queue_depth ")
        .append(std::to_string(queue_depth_ ? queue_depth_() : 0))
        .append("\n");
    Header(&out, "modelgate_requests_in_flight", "gauge",
           "Inference requests admitted and not yet answered.");
    out.append("modelgate_requests_in_flight ")
        .append(std::to_string(in_flight_ ? in_flight_() : 0))
        .append("\n");
  }
  Header(&out, "modelgate_tokens_total", "counter", "Tokens run through the model.");
  out.append("modelgate_tokens_total ").append(std::to_string(tokens_.load())).append("\n");
  Header(&out, "modelgate_unauthenticated_requests_total", "counter",
         "Requests refused without a key anyone holds (missing, malformed or unknown).");
  out.append("modelgate_unauthenticated_requests_total ")
      .append(std::to_string(unauthenticated_.load()))
      .append("\n");
  Header(&out, "modelgate_refused_connections_total", "counter",
         "Connections closed at once because --max-connections were open.");
  out.append("modelgate_refused_connections_total ")
      .append(std::to_string(refused_connections_.load()))
      .append("\n");
  const std::pair<const Histogram*, const char*> histograms[] = {
      {&queue_seconds, "modelgate_queue_duration_seconds"},
      {&tokenize_seconds, "modelgate_tokenize_duration_seconds"},
      {&inference_seconds, "modelgate_inference_duration_seconds"},
      {&total_seconds, "modelgate_request_duration_seconds"},
      {&batch_requests, "modelgate_batch_size_requests"},
      {&batch_tokens, "modelgate_batch_size_tokens"},
  };
  for (const auto& [histogram, name] : histograms) {
    Header(&out, name, "histogram", "See docs/serving.md.");
    histogram->Render(name, &out);
  }
  return out;
}

}  // namespace mg::serve
