// Service without the HTTP transport: the access gate's refusals become the
// right status, error body and Retry-After; licence expiry and features are
// enforced per request against an injected clock.
#include "serve/service.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

namespace mg::serve {
namespace {

constexpr char kModel[] = "tests/data/fixtures/tiny-bert-model-safetensors";

// Authenticates everyone but "nobody" (a key nobody holds); then refuses
// "unknown" (401) and "limited" (429), admits everyone else.
class TestGate : public Gate {
 public:
  Admission Authenticate(const GateRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++authenticated;
    Admission admission;
    if (request.api_key == "nobody") {
      admission.status = 401;
      admission.error_type = "invalid_api_key";
      admission.message = "unknown API key";
    }
    return admission;
  }
  Admission Admit(const GateRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    admitted.push_back({std::string(request.api_key), std::string(request.route),
                        std::string(request.scope), request.tokens});
    Admission admission;
    if (request.api_key == "unknown") {
      admission.status = 401;
      admission.error_type = "unauthorized";
      admission.message = "unknown API key";
    } else if (request.api_key == "limited") {
      admission.status = 429;
      admission.error_type = "rate_limited";
      admission.message = "rate limit of 10 requests per minute reached";
      admission.retry_after_s = 7;
    }
    admission.key_id = "key-" + std::string(request.api_key);
    return admission;
  }
  Status Finish(const Admission& admission, const GateRequest& /*request*/,
                const Outcome& outcome) override {
    std::lock_guard<std::mutex> lock(mutex_);
    finished.push_back({admission.key_id, outcome.status, outcome.tokens});
    if (admission.key_id == "key-unrecorded") return IoError("ledger unavailable");
    if (admission.key_id == "key-late") {
      return ResourceExhaustedError("insufficient_quota: quota of 100 tokens used up elsewhere");
    }
    return Status::Ok();
  }

  struct Seen {
    std::string key, route, scope;
    int64_t tokens;
  };
  struct Done {
    std::string key_id;
    int status;
    int64_t tokens;
  };
  std::mutex mutex_;
  int authenticated = 0;
  std::vector<Seen> admitted;
  std::vector<Done> finished;
};

class ServiceTest : public ::testing::Test {
 protected:
  void Start(std::optional<release::Licence> licence = std::nullopt) {
    auto model = model::Model::Load(kModel);
    ASSERT_TRUE(model.ok()) << model.status().message();
    release::ServedModel served;
    served.model = std::move(model).value();
    served.model_id = "tiny";
    served.licence = std::move(licence);
    auto gate = std::make_unique<TestGate>();
    gate_ = gate.get();
    ServiceOptions options;
    options.clock = [this] { return std::chrono::sys_seconds(std::chrono::seconds(now_.load())); };
    auto service = Service::Create(options, std::move(served), std::move(gate), &logger_);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(service).value();
  }

  HttpResponse Call(const std::string& path, const std::string& body, const std::string& key) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    request.api_key = key;
    request.request_id = "test";
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    service_->Handle(request,
                     [promise](HttpResponse response) { promise->set_value(std::move(response)); });
    return future.get();
  }

  static std::string Header(const HttpResponse& response, const std::string& name) {
    for (const auto& [key, value] : response.headers)
      if (key == name) return value;
    return {};
  }

  Logger logger_{LogLevel::kOff};
  TestGate* gate_ = nullptr;
  std::atomic<int64_t> now_{0};
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, GateRefusalsMapToStatusBodyAndRetryAfter) {
  Start();
  HttpResponse ok = Call("/embed", R"({"inputs":"hello world"})", "good");
  EXPECT_EQ(ok.status, 200);

  HttpResponse unauthorized = Call("/embed", R"({"inputs":"hello"})", "unknown");
  EXPECT_EQ(unauthorized.status, 401);
  auto tei = nlohmann::json::parse(unauthorized.body);
  EXPECT_EQ(tei["error_type"], "unauthorized");
  EXPECT_EQ(tei["error"], "unknown API key");
  EXPECT_EQ(Header(unauthorized, "Retry-After"), "");

  HttpResponse limited = Call("/v1/embeddings", R"({"input":"hello"})", "limited");
  EXPECT_EQ(limited.status, 429);
  auto openai = nlohmann::json::parse(limited.body);
  EXPECT_EQ(openai["error"]["type"], "rate_limited");
  EXPECT_EQ(openai["error"]["code"], 429);
  EXPECT_NE(openai["error"]["message"].get<std::string>().find("rate limit"), std::string::npos);
  EXPECT_EQ(Header(limited, "Retry-After"), "7");

  service_->Stop();
  ASSERT_EQ(gate_->admitted.size(), 3u);
  EXPECT_EQ(gate_->admitted[0].route, "/embed");
  EXPECT_EQ(gate_->admitted[0].scope, "embed");
  EXPECT_EQ(gate_->admitted[0].tokens, 4);  // [CLS] hello world [SEP]
  EXPECT_EQ(gate_->admitted[2].route, "/v1/embeddings");
  // Finish only for the admitted request, with its outcome.
  ASSERT_EQ(gate_->finished.size(), 1u);
  EXPECT_EQ(gate_->finished[0].key_id, "key-good");
  EXPECT_EQ(gate_->finished[0].status, 200);
  EXPECT_EQ(gate_->finished[0].tokens, 4);
}

TEST_F(ServiceTest, InvalidRequestsNeverReachTheGate) {
  Start();
  EXPECT_EQ(Call("/embed", R"({"inputs":[]})", "good").status, 422);
  EXPECT_EQ(Call("/embed", "{", "good").status, 400);
  service_->Stop();
  EXPECT_TRUE(gate_->admitted.empty());
}

// A client without a valid key learns nothing about its body (no 400 or
// 422), moves no PII metric and never reaches admission; it is counted.
TEST_F(ServiceTest, KeyIsCheckedBeforeAnythingElse) {
  Start();
  EXPECT_EQ(Call("/embed", "{", "nobody").status, 401);
  EXPECT_EQ(Call("/embed", R"({"inputs":[]})", "nobody").status, 401);
  EXPECT_EQ(Call("/embed", R"({"inputs":"mail john.doe@example.com"})", "nobody").status, 401);
  EXPECT_EQ(Call("/tokenize", R"({"inputs":"hello"})", "nobody").status, 401);
  const std::string metrics = service_->metrics().Render();
  EXPECT_EQ(metrics.find("modelgate_pii_detections_total{"), std::string::npos);
  EXPECT_NE(metrics.find("modelgate_unauthenticated_requests_total 4\n"), std::string::npos);
  service_->Stop();
  EXPECT_EQ(gate_->authenticated, 4);
  EXPECT_TRUE(gate_->admitted.empty());
}

// /tokenize is admitted with the tokens it lists, and finishes with them.
TEST_F(ServiceTest, TokenizeCountsItsTokens) {
  Start();
  EXPECT_EQ(Call("/tokenize", R"({"inputs":"hello world"})", "good").status, 200);
  service_->Stop();
  ASSERT_EQ(gate_->admitted.size(), 1u);
  EXPECT_EQ(gate_->admitted[0].route, "/tokenize");
  EXPECT_EQ(gate_->admitted[0].tokens, 4);  // [CLS] hello world [SEP]
  ASSERT_EQ(gate_->finished.size(), 1u);
  EXPECT_EQ(gate_->finished[0].tokens, 4);
}

TEST_F(ServiceTest, LicenceExpiryAndFeaturesAreEnforcedPerRequest) {
  release::Licence licence;
  licence.licensee = "Acme";
  licence.model_id = "tiny";
  licence.not_before = "2026-01-01";
  licence.expires = "2026-01-31";
  licence.features = {"embed"};
  Start(licence);
  const int64_t jan_31_noon = (*release::ParseDate("2026-01-31")) * 86400 + 12 * 3600;
  now_ = jan_31_noon;
  EXPECT_EQ(Call("/embed", R"({"inputs":"hello"})", "").status, 200);
  HttpResponse classify = Call("/predict", R"({"inputs":"hello"})", "");
  EXPECT_EQ(classify.status, 403);
  EXPECT_EQ(nlohmann::json::parse(classify.body)["error_type"], "licence");
  now_ = jan_31_noon + 12 * 3600;  // 2026-02-01 00:00:00 UTC
  HttpResponse expired = Call("/embed", R"({"inputs":"hello"})", "");
  EXPECT_EQ(expired.status, 403);
  EXPECT_NE(expired.body.find("licence"), std::string::npos);
}

// A reply the gate could not record is never sent: the client gets 503.
TEST_F(ServiceTest, FailedFinishAnswers503) {
  Start();
  HttpResponse response = Call("/embed", R"({"inputs":"hello"})", "unrecorded");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error_type"], "service_unavailable");
  EXPECT_EQ(Header(response, "x-compute-tokens"), "");
  service_->Stop();
  ASSERT_EQ(gate_->finished.size(), 1u);
  EXPECT_EQ(gate_->finished[0].status, 200);
}

// A limit that refuses the request at Finish (used up meanwhile by another
// server): the client gets that refusal, 429, never the result.
TEST_F(ServiceTest, RefusalAtFinishAnswers429) {
  Start();
  HttpResponse response = Call("/embed", R"({"inputs":"hello"})", "late");
  EXPECT_EQ(response.status, 429);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error_type"], "insufficient_quota");
  EXPECT_EQ(body["error"], "quota of 100 tokens used up elsewhere");
  EXPECT_EQ(Header(response, "x-compute-tokens"), "");
  service_->Stop();
}

}  // namespace
}  // namespace mg::serve
