#include "serve/metrics.h"

#include <gtest/gtest.h>

namespace mg::serve {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, RendersCountersAndCumulativeHistograms) {
  Metrics metrics;
  metrics.CountRequest("/embed", 200);
  metrics.CountRequest("/embed", 200);
  metrics.CountRequest("/embed", 422);
  metrics.CountPii("EMAIL_ADDRESS", 3);
  metrics.CountTokens(42);
  metrics.total_seconds.Observe(0.003);
  metrics.total_seconds.Observe(0.2);
  metrics.batch_requests.Observe(3);
  metrics.SetGauges([] { return 7; }, [] { return 2; });
  const std::string text = metrics.Render();
  EXPECT_TRUE(Has(text, "modelgate_requests_total{route=\"/embed\",status=\"200\"} 2"));
  EXPECT_TRUE(Has(text, "modelgate_requests_total{route=\"/embed\",status=\"422\"} 1"));
  EXPECT_TRUE(Has(text, "modelgate_pii_detections_total{entity_type=\"EMAIL_ADDRESS\"} 3"));
  EXPECT_TRUE(Has(text, "modelgate_tokens_total 42"));
  EXPECT_TRUE(Has(text, "modelgate_queue_depth 7"));
  EXPECT_TRUE(Has(text, "modelgate_requests_in_flight 2"));
  EXPECT_TRUE(Has(text, "modelgate_request_duration_seconds_bucket{le=\"0.0025\"} 0"));
  EXPECT_TRUE(Has(text, "modelgate_request_duration_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(Has(text, "modelgate_request_duration_seconds_bucket{le=\"0.25\"} 2"));
  EXPECT_TRUE(Has(text, "modelgate_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(Has(text, "modelgate_request_duration_seconds_count 2"));
  EXPECT_TRUE(Has(text, "modelgate_batch_size_requests_bucket{le=\"2\"} 0"));
  EXPECT_TRUE(Has(text, "modelgate_batch_size_requests_bucket{le=\"4\"} 1"));
  EXPECT_TRUE(Has(text, "# TYPE modelgate_queue_duration_seconds histogram"));
}

}  // namespace
}  // namespace mg::serve
