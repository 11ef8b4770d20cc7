// LicenceGate with the in-process counter: the licence's limits are applied
// after the inner gate admits, refusals and failures are reported to the
// inner gate, and settled reservations give back what was not used.
#include "serve/licence_gate.h"

#include <gtest/gtest.h>

#include <vector>

#include "store/limits.h"

namespace mg::serve {
namespace {

// 2026-03-10T12:00:00Z.
constexpr int64_t kNoon = 1'773'144'000'000;

// Admits every request with a key, and records what it is told.
class RecordingGate final : public Gate {
 public:
  Admission Admit(const GateRequest& request) override {
    Admission admission;
    admission.key_name.assign(1, 'k');
    if (request.api_key.empty()) admission.status = 401;
    return admission;
  }
  Status Finish(const Admission& /*admission*/, const GateRequest& /*request*/,
                const Outcome& outcome) override {
    finished.push_back(outcome.status);
    return Status::Ok();
  }
  std::string MetricsText() const override { return "inner_metric 1\n"; }
  std::vector<int> finished;
};

class LicenceGateTest : public ::testing::Test {
 protected:
  void Make(int64_t max_requests, int64_t max_tokens_per_day) {
    auto inner = std::make_unique<RecordingGate>();
    inner_ = inner.get();
    gate_ = std::make_unique<LicenceGate>(
        std::move(inner), store::LicenceLimits{"abc", max_requests, max_tokens_per_day},
        std::make_unique<MemoryLicenceCounter>(), [this] { return now_; });
  }
  // Admits and finishes one request; returns the admission's status.
  int Call(int64_t tokens, int reply_status = 200, std::string_view scope = "embed",
           std::string_view route = "/embed") {
    GateRequest request;
    request.route = route;
    request.api_key = "key";
    request.scope = scope;
    request.tokens = tokens;
    const Admission admission = gate_->Admit(request);
    last_ = admission;
    if (admission.status == 200) {
      EXPECT_TRUE(gate_->Finish(admission, request, {reply_status, tokens, 1.0}).ok());
    }
    return admission.status;
  }
  int64_t now_ = kNoon;
  RecordingGate* inner_ = nullptr;
  std::unique_ptr<LicenceGate> gate_;
  Admission last_;
};

TEST_F(LicenceGateTest, MaxRequestsCountsOnlySuccessfulRequests) {
  Make(3, 0);
  EXPECT_EQ(Call(5), 200);
  EXPECT_EQ(Call(5, 503), 200);  // admitted, then failed: not counted
  EXPECT_EQ(Call(5), 200);
  EXPECT_EQ(Call(5), 200);
  EXPECT_EQ(Call(5), 429);
  EXPECT_EQ(last_.error_type, "licence_quota_exceeded");
  EXPECT_NE(last_.message.find("allows 3 requests"), std::string::npos) << last_.message;
  EXPECT_EQ(last_.key_name, "k");
  // The inner gate heard of every admitted request, the refusal included.
  EXPECT_EQ(inner_->finished, (std::vector<int>{200, 503, 200, 200, 429}));
  // Tokenisation, catalogue changes and admin requests are not the
  // licence's business (their routes say so), nor are unknown routes.
  EXPECT_EQ(Call(5, 200, "admin", "/v1/items"), 200);
  EXPECT_EQ(Call(5, 200, "admin", "/metrics"), 200);
  EXPECT_EQ(Call(5, 200, "embed", "/tokenize"), 200);
  EXPECT_EQ(Call(5, 200, "embed", "unknown"), 200);
  const std::string metrics = gate_->MetricsText();
  EXPECT_NE(metrics.find("inner_metric 1"), std::string::npos);
  EXPECT_NE(metrics.find("modelgate_licence_requests_used{licence_id=\"abc\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("modelgate_licence_refused{licence_id=\"abc\"} 1"), std::string::npos);
}

TEST_F(LicenceGateTest, TokensPerDayResetAtMidnightUtc) {
  Make(0, 100);
  EXPECT_EQ(Call(60), 200);
  EXPECT_EQ(Call(50), 429);
  EXPECT_EQ(last_.retry_after_s, 12 * 3600);
  EXPECT_EQ(Call(40), 200);
  now_ = kNoon + store::kDayMs / 2;  // midnight
  EXPECT_EQ(Call(100), 200);
  EXPECT_EQ(Call(1), 429);
}

TEST_F(LicenceGateTest, RefusedByTheInnerGateCountsNothing) {
  Make(1, 0);
  GateRequest anonymous;
  anonymous.scope = "embed";
  EXPECT_EQ(gate_->Admit(anonymous).status, 401);
  EXPECT_TRUE(inner_->finished.empty());
  EXPECT_EQ(Call(1), 200);
}

}  // namespace
}  // namespace mg::serve
