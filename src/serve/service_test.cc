// Service without the HTTP transport: the access gate's refusals become the
// right status, error body and Retry-After; licence expiry and features are
// enforced per request against an injected clock.
#include "serve/service.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>

#include "serve/api_error.h"
#include "serve/call.h"

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
    } else if (!request.api_key.empty()) {
      admission.key_id = "key-" + std::string(request.api_key);
      admission.key_name = std::string(request.api_key);
    }
    // "rounded" holds a key row whose output policy rounds embeddings.
    if (request.api_key == "rounded") {
      admission.key.emplace();
      admission.key->output_policy = "embed-decimals:2";
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
      admission.error_type = "invalid_api_key";
      admission.message = "unknown API key";
    } else if (request.api_key == "limited") {
      admission.status = 429;
      admission.error_type = "rate_limit_exceeded";
      admission.message = "rate limit of 10 requests per minute reached";
      admission.retry_after_s = 7;
    } else if (request.api_key == "spent") {
      admission.status = 429;
      admission.error_type = "insufficient_quota";
      admission.message = "token quota used up";
      admission.retry_after_s = 86400;
    } else if (request.api_key == "scoped") {
      admission.status = 403;
      admission.error_type = "insufficient_scope";
      admission.message = "lacks the 'embed' scope";
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
  void Start(std::optional<release::Licence> licence = std::nullopt,
             std::function<void(ServiceOptions*)> configure = {}) {
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
    if (configure) configure(&options);
    auto service = Service::Create(options, std::move(served), std::move(gate), &logger_);
    ASSERT_TRUE(service.ok()) << service.status().message();
    service_ = std::move(service).value();
  }

  HttpResponse Call(const std::string& path, const std::string& body, const std::string& key,
                    const std::string& method = "POST") {
    HttpRequest request;
    request.method = method;
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
  EXPECT_EQ(tei["error_type"], "Validation");
  EXPECT_EQ(tei["error_code"], "invalid_api_key");
  EXPECT_EQ(tei["error"], "unknown API key");
  EXPECT_EQ(Header(unauthorized, "Retry-After"), "");
  EXPECT_EQ(Header(unauthorized, "x-should-retry"), "");

  HttpResponse limited = Call("/v1/embeddings", R"({"input":"hello"})", "limited");
  EXPECT_EQ(limited.status, 429);
  auto openai = nlohmann::json::parse(limited.body);
  EXPECT_EQ(openai["error"]["type"], "rate_limit_error");
  EXPECT_EQ(openai["error"]["code"], "rate_limit_exceeded");
  EXPECT_NE(openai["error"]["message"].get<std::string>().find("rate limit"), std::string::npos);
  EXPECT_EQ(Header(limited, "Retry-After"), "7");
  EXPECT_EQ(Header(limited, "x-should-retry"), "true");

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

// Quota refusals tell clients not to retry (x-should-retry: false) in both
// API styles; OpenAI codes are strings, never the HTTP status.
TEST_F(ServiceTest, QuotaRefusalsSayDoNotRetry) {
  Start();
  for (const char* path : {"/embed", "/v1/embeddings"}) {
    SCOPED_TRACE(path);
    const bool openai = std::string(path) == "/v1/embeddings";
    HttpResponse spent =
        Call(path, openai ? R"({"input":"hello"})" : R"({"inputs":"hello"})", "spent");
    EXPECT_EQ(spent.status, 429);
    EXPECT_EQ(Header(spent, "x-should-retry"), "false");
    EXPECT_EQ(Header(spent, "Retry-After"), "86400");
    auto body = nlohmann::json::parse(spent.body);
    if (openai) {
      EXPECT_EQ(body["error"]["code"], "insufficient_quota");
      EXPECT_EQ(body["error"]["type"], "insufficient_quota");
    } else {
      EXPECT_EQ(body["error_type"], "Overloaded");
      EXPECT_EQ(body["error_code"], "insufficient_quota");
    }
  }
  HttpResponse scoped = Call("/v1/embeddings", R"({"input":"hello"})", "scoped");
  EXPECT_EQ(scoped.status, 403);
  auto body = nlohmann::json::parse(scoped.body);
  EXPECT_EQ(body["error"]["type"], "permission_error");
  EXPECT_EQ(body["error"]["code"], "insufficient_scope");
  HttpResponse invalid = Call("/v1/embeddings", R"({"input":5})", "good");
  EXPECT_EQ(invalid.status, 422);
  body = nlohmann::json::parse(invalid.body);
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["code"], "invalid_value");
  EXPECT_TRUE(body["error"]["param"].is_null());
  HttpResponse missing = Call("/v1/nothing", "{}", "good");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"]["code"], "not_found");
}

TEST(ApiErrorTest, TeiTypesAndOpenAiCodes) {
  struct Case {
    ApiError error;
    const char* tei;
    const char* openai_type;
    const char* openai_code;
  };
  const Case cases[] = {
      {{422, "validation", "m"}, "Validation", "invalid_request_error", "invalid_value"},
      {{400, "empty", "m"}, "Empty", "invalid_request_error", "invalid_value"},
      {{422, "tokenizer", "m"}, "Tokenizer", "invalid_request_error", "tokenizer"},
      {{422, "pii_detected", "m"}, "Validation", "invalid_request_error", "pii_detected"},
      {{413, "payload_too_large", "m"}, "Validation", "invalid_request_error", "payload_too_large"},
      {{503, "overloaded", "m"}, "Overloaded", "server_error", "overloaded"},
      {{503, "unavailable", "m"}, "Unhealthy", "server_error", "service_unavailable"},
      {{503, "service_unavailable", "m"}, "Unhealthy", "server_error", "service_unavailable"},
      {{424, "backend", "m"}, "Backend", "server_error", "backend"},
      {{500, "internal", "m"}, "Backend", "server_error", "internal"},
      {{429, "rate_limit_exceeded", "m"}, "Overloaded", "rate_limit_error", "rate_limit_exceeded"},
      {{429, "licence_quota_exceeded", "m"},
       "Overloaded",
       "insufficient_quota",
       "insufficient_quota"},
      {{401, "invalid_api_key", "m"}, "Validation", "invalid_request_error", "invalid_api_key"},
      {{403, "licence", "m"}, "Validation", "permission_error", "licence"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error.type);
    EXPECT_EQ(TeiErrorType(c.error), c.tei);
    EXPECT_EQ(OpenAiErrorType(c.error), c.openai_type);
    EXPECT_EQ(OpenAiErrorCode(c.error), c.openai_code);
    auto tei = nlohmann::json::parse(ErrorBody(ApiStyle::kTei, c.error));
    EXPECT_EQ(tei["error_type"], c.tei);
    EXPECT_EQ(tei["error_code"], c.error.type);
    auto openai = nlohmann::json::parse(ErrorBody(ApiStyle::kOpenAi, c.error));
    EXPECT_TRUE(openai["error"]["code"].is_string());
  }
  const auto licence = ErrorHeaders({429, "licence_quota_exceeded", "m", 3600});
  ASSERT_EQ(licence.size(), 2u);
  EXPECT_EQ(licence[1], (std::pair<std::string, std::string>{"x-should-retry", "false"}));
  EXPECT_TRUE(ErrorHeaders({422, "validation", "m"}).empty());
}

TEST_F(ServiceTest, InvalidRequestsNeverReachTheGate) {
  Start();
  EXPECT_EQ(Call("/embed", R"({"inputs":[]})", "good").status, 400);
  EXPECT_EQ(Call("/embed", R"({"inputs":5})", "good").status, 422);
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
  EXPECT_EQ(nlohmann::json::parse(classify.body)["error_type"], "Validation");
  EXPECT_EQ(nlohmann::json::parse(classify.body)["error_code"], "licence");
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
  EXPECT_EQ(nlohmann::json::parse(response.body)["error_type"], "Unhealthy");
  EXPECT_EQ(nlohmann::json::parse(response.body)["error_code"], "service_unavailable");
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
  EXPECT_EQ(body["error_type"], "Overloaded");
  EXPECT_EQ(body["error_code"], "insufficient_quota");
  EXPECT_EQ(body["error"], "quota of 100 tokens used up elsewhere");
  EXPECT_EQ(Header(response, "x-should-retry"), "false");
  EXPECT_EQ(Header(response, "x-compute-tokens"), "");
  service_->Stop();
}

std::vector<std::vector<double>> Rows(const std::string& body) {
  return nlohmann::json::parse(body).get<std::vector<std::vector<double>>>();
}

double Cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

TEST_F(ServiceTest, PingInfoAndPostRootByModelType) {
  Start();
  HttpResponse ping = Call("/ping", "", "", "GET");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ping.body), nlohmann::json({{"status", "ok"}}));
  auto info = nlohmann::json::parse(Call("/info", "", "", "GET").body);
  EXPECT_EQ(info["served_model_name"], "tiny");
  EXPECT_EQ(info["auto_truncate"], true);
  EXPECT_GE(info["max_client_batch_size"].get<int>(), 512);
  // An embedding model: POST / and /invocations answer as /embed.
  const std::string embed = Call("/embed", R"({"inputs":["hello world"]})", "good").body;
  EXPECT_EQ(Call("/", R"({"inputs":["hello world"]})", "good").body, embed);
  EXPECT_EQ(Call("/invocations", R"({"inputs":["hello world"]})", "good").body, embed);
  EXPECT_EQ(Call("/invocations", "", "good", "GET").status, 405);
  // GET / stays the dashboard.
  HttpResponse dashboard = Call("/", "", "", "GET");
  EXPECT_EQ(dashboard.status, 200);
  EXPECT_NE(dashboard.body.find("<html"), std::string::npos);
  // Not a classifier: /predict is TEI's 424 Backend.
  HttpResponse predict = Call("/predict", R"({"inputs":"hello"})", "good");
  EXPECT_EQ(predict.status, 424);
  EXPECT_EQ(nlohmann::json::parse(predict.body)["error_type"], "Backend");
  HttpResponse sparse = Call("/embed_sparse", R"({"inputs":"hello"})", "good");
  EXPECT_EQ(sparse.status, 424);
  EXPECT_EQ(nlohmann::json::parse(sparse.body)["error_type"], "Backend");
  service_->Stop();
  // Counted under the route they answer as.
  for (const auto& seen : gate_->admitted) EXPECT_EQ(seen.route, "/embed");
}

// Over-long inputs are truncated unless the request says "truncate": false
// (or the server runs with auto_truncate off); the reply says how many were.
TEST_F(ServiceTest, AutoTruncateAndTheTruncatedInputsHeader) {
  Start(std::nullopt, [](ServiceOptions* options) { options->max_input_length = 4; });
  const std::string long_text = R"("hello world hello world hello")";
  HttpResponse cut = Call("/embed", R"({"inputs":[)" + long_text + R"(,"hello"]})", "good");
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(Header(cut, "x-truncated-inputs"), "1");
  EXPECT_EQ(Header(cut, "x-compute-tokens"), "7");  // 4 + [CLS] hello [SEP]
  HttpResponse whole = Call("/embed", R"({"inputs":"hello"})", "good");
  EXPECT_EQ(Header(whole, "x-truncated-inputs"), "");
  HttpResponse refused =
      Call("/embed", R"({"inputs":)" + long_text + R"(,"truncate":false})", "good");
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["error_type"], "Validation");
  HttpResponse openai = Call("/v1/embeddings", R"({"input":)" + long_text + R"(})", "good");
  EXPECT_EQ(openai.status, 200);
  EXPECT_EQ(Header(openai, "x-truncated-inputs"), "1");
  service_->Stop();

  Start(std::nullopt, [](ServiceOptions* options) {
    options->max_input_length = 4;
    options->auto_truncate = false;
  });
  EXPECT_EQ(Call("/embed", R"({"inputs":)" + long_text + "}", "good").status, 422);
  EXPECT_EQ(Call("/embed", R"({"inputs":)" + long_text + R"(,"truncate":true})", "good").status,
            200);
  EXPECT_EQ(nlohmann::json::parse(Call("/info", "", "", "GET").body)["auto_truncate"], false);
}

// /tokenize lists each token's slice of the input; /decode turns ids back
// into text; /v1/embeddings takes the same ids as the text.
TEST_F(ServiceTest, TokenizeDecodeAndTokenIdInputs) {
  Start();
  auto tokens =
      nlohmann::json::parse(Call("/tokenize", R"({"inputs":"hello Héllo"})", "good").body)[0];
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0]["text"], "[CLS]");
  EXPECT_EQ(tokens[0]["special"], true);
  EXPECT_TRUE(tokens[0]["start"].is_null());
  EXPECT_EQ(tokens[1]["text"], "hello");
  EXPECT_EQ(tokens[2]["text"], "H\u00e9llo");  // the input's text, not the vocabulary's [UNK]
  EXPECT_EQ(tokens[2]["id"], 1);
  EXPECT_EQ(tokens[2]["start"], 6);
  EXPECT_EQ(tokens[2]["stop"], 12);
  EXPECT_EQ(tokens[3]["text"], "[SEP]");

  auto ids = nlohmann::json::parse(Call("/tokenize", R"({"inputs":"t5 t12 t7"})", "good").body);
  std::vector<int> id_list;
  for (const auto& token : ids[0]) id_list.push_back(token["id"].get<int>());
  const std::string ids_json = nlohmann::json(id_list).dump();
  EXPECT_EQ(nlohmann::json::parse(Call("/decode", R"({"ids":)" + ids_json + "}", "good").body),
            "t5 t12 t7");
  EXPECT_EQ(nlohmann::json::parse(Call("/decode",
                                       R"({"ids":[)" + ids_json + "," + ids_json +
                                           R"(],"skip_special_tokens":false})",
                                       "good")
                                      .body),
            nlohmann::json({"[CLS] t5 t12 t7 [SEP]", "[CLS] t5 t12 t7 [SEP]"}));
  HttpResponse unknown_id = Call("/decode", R"({"ids":[100000]})", "good");
  EXPECT_EQ(unknown_id.status, 422);

  // The ids /tokenize gave (with [CLS] and [SEP]) embed as the text does.
  auto text =
      nlohmann::json::parse(Call("/v1/embeddings", R"({"input":"t5 t12 t7"})", "good").body);
  HttpResponse by_ids = Call("/v1/embeddings", R"({"input":)" + ids_json + "}", "good");
  ASSERT_EQ(by_ids.status, 200) << by_ids.body;
  auto ids_reply = nlohmann::json::parse(by_ids.body);
  const auto a = text["data"][0]["embedding"].get<std::vector<double>>();
  const auto b = ids_reply["data"][0]["embedding"].get<std::vector<double>>();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  EXPECT_EQ(ids_reply["usage"]["prompt_tokens"], 5);
  HttpResponse outside = Call("/v1/embeddings", R"({"input":[[2, 100000, 3]]})", "good");
  EXPECT_EQ(outside.status, 422);
  EXPECT_EQ(nlohmann::json::parse(outside.body)["error"]["code"], "invalid_value");
}

// dimensions keeps the first values, renormalised; /similarity is the
// cosine of the embeddings; /embed_all's rows mean-pool into /embed's.
TEST_F(ServiceTest, DimensionsSimilarityAndEmbedAll) {
  Start();
  const auto raw =
      Rows(Call("/embed", R"({"inputs":"hello world","normalize":false})", "good").body)[0];
  ASSERT_EQ(raw.size(), 32u);
  const auto cut =
      Rows(Call("/embed", R"({"inputs":"hello world","dimensions":8})", "good").body)[0];
  ASSERT_EQ(cut.size(), 8u);
  double norm = 0;
  for (size_t i = 0; i < 8; ++i) norm += raw[i] * raw[i];
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(cut[i], raw[i] / std::sqrt(norm), 1e-5);
  auto openai = nlohmann::json::parse(
      Call("/v1/embeddings", R"({"input":"hello world","dimensions":8})", "good").body);
  const auto openai_cut = openai["data"][0]["embedding"].get<std::vector<double>>();
  ASSERT_EQ(openai_cut.size(), 8u);
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(openai_cut[i], cut[i], 1e-6);
  for (const char* body : {R"({"input":"a","dimensions":33})", R"({"input":"a","dimensions":0})"}) {
    EXPECT_EQ(Call("/v1/embeddings", body, "good").status, 422) << body;
  }
  EXPECT_EQ(Call("/embed", R"({"inputs":"a","dimensions":33})", "good").status, 422);

  const auto rows =
      Rows(Call("/embed", R"({"inputs":["hello","world","hello world"]})", "good").body);
  auto scores =
      nlohmann::json::parse(
          Call(
              "/similarity",
              R"({"inputs":{"source_sentence":"hello","sentences":["world","hello world","hello"]}})",
              "good")
              .body)
          .get<std::vector<double>>();
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_NEAR(scores[0], Cosine(rows[0], rows[1]), 1e-5);
  EXPECT_NEAR(scores[1], Cosine(rows[0], rows[2]), 1e-5);
  EXPECT_NEAR(scores[2], 1.0, 1e-5);

  auto all = nlohmann::json::parse(Call("/embed_all", R"({"inputs":"hello world"})", "good").body);
  ASSERT_EQ(all.size(), 1u);
  ASSERT_EQ(all[0].size(), 4u);  // [CLS] hello world [SEP]
  std::vector<double> mean(32, 0.0);
  for (const auto& token : all[0]) {
    const auto row = token.get<std::vector<double>>();
    ASSERT_EQ(row.size(), 32u);
    for (size_t i = 0; i < 32; ++i) mean[i] += row[i] / 4;
  }
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR(mean[i], raw[i], 1e-4);
}

// A request with more tokens than one batch holds runs in several and gets
// the same rows as its inputs one by one.
TEST_F(ServiceTest, LargeRequestsRunInSeveralBatches) {
  Start(std::nullopt, [](ServiceOptions* options) {
    options->max_input_length = 8;
    options->max_batch_tokens = 8;
  });
  const std::vector<std::string> texts = {"hello", "world", "hello world", "world hello world"};
  nlohmann::json inputs = texts;
  HttpResponse batch = Call("/embed", nlohmann::json({{"inputs", inputs}}).dump(), "good");
  ASSERT_EQ(batch.status, 200) << batch.body;
  const auto rows = Rows(batch.body);
  ASSERT_EQ(rows.size(), texts.size());
  for (size_t t = 0; t < texts.size(); ++t) {
    const auto one =
        Rows(Call("/embed", nlohmann::json({{"inputs", {texts[t]}}}).dump(), "good").body)[0];
    for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(rows[t][i], one[i], 1e-6);
  }
  // /embed_all's reply grows with every token: still one batch at most.
  EXPECT_EQ(Call("/embed_all", nlohmann::json({{"inputs", inputs}}).dump(), "good").status, 422);
}

TEST(ServiceDefaultsTest, ClientBatchSizeFollowsMemoryAndLatency) {
  // A 512-token model with 384-wide rows and the default 16384-token batches:
  // 64 batches hold 2048 worst-case inputs, and memory more.
  EXPECT_EQ(DefaultMaxClientBatchSize(512, 16384, 384), 2048u);
  // Memory binds first for wide rows and short inputs: 64 MiB / (8*128 + 16*4096).
  EXPECT_EQ(DefaultMaxClientBatchSize(128, 1 << 20, 4096), 1008u);
  // Never below 32 nor above 8192.
  EXPECT_EQ(DefaultMaxClientBatchSize(512, 512, 384), 64u);
  EXPECT_EQ(DefaultMaxClientBatchSize(512, 128, 384), 32u);
  EXPECT_EQ(DefaultMaxClientBatchSize(8, 1 << 20, 8), 8192u);
}

}  // namespace
}  // namespace mg::serve

namespace mg::serve {
namespace {

std::vector<float> Floats(const nlohmann::json& row) {
  std::vector<float> values;
  for (const auto& value : row) values.push_back(value.get<float>());
  return values;
}

// The first `dims` values of `row`, unit length, rounded to `decimals`.
std::vector<float> CutReference(const std::vector<float>& row, size_t dims, int decimals) {
  std::vector<float> cut(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(dims));
  double norm = 0;
  for (float v : cut) norm += static_cast<double>(v) * v;
  for (float& v : cut) v = RoundToDecimals(static_cast<float>(v / std::sqrt(norm)), decimals);
  return cut;
}

// The licence's "output:..." features, a key's stored policy and a policy
// tightened at run time each cut /embed's reply; the stricter of them wins,
// and tightening never widens.
TEST_F(ServiceTest, OutputPoliciesOfLicenceKeyAndRunTimeCutEmbeddings) {
  Start();
  const auto raw = nlohmann::json::parse(
      Call("/embed", R"({"inputs":"hello world","normalize":false})", "good").body)[0];
  const std::vector<float> full = Floats(raw);
  ASSERT_GT(full.size(), 8u);
  // A key row's policy (as the control plane returns it).
  const auto rounded =
      nlohmann::json::parse(Call("/embed", R"({"inputs":"hello world"})", "rounded").body)[0];
  EXPECT_EQ(Floats(rounded), CutReference(full, full.size(), 2));

  // Tightened at run time for one key: the others keep their replies.
  service_->TightenOutputPolicy("key-watched", *ParseOutputPolicy("embed-dims:8"));
  service_->TightenOutputPolicy("key-watched",
                                *ParseOutputPolicy("embed-dims:16,embed-decimals:3"));
  const auto watched =
      nlohmann::json::parse(Call("/embed", R"({"inputs":"hello world"})", "watched").body)[0];
  EXPECT_EQ(Floats(watched), CutReference(full, 8, 3));
  EXPECT_EQ(
      nlohmann::json::parse(Call("/embed", R"({"inputs":"hello world"})", "good").body)[0].size(),
      full.size());
  service_->TightenOutputPolicy("key-watched", *ParseOutputPolicy("label,no-embed"));
  HttpResponse refused = Call("/v1/embeddings", R"({"input":"hello world"})", "watched");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("output policy: label,no-embed"), std::string::npos) << refused.body;
  EXPECT_EQ(
      Call("/similarity", R"({"inputs":{"source_sentence":"a","sentences":["b","c"]}})", "watched")
          .status,
      403);
  const auto info = nlohmann::json::parse(Call("/info", "", "watched", "GET").body);
  EXPECT_EQ(info["key"]["output_policy"], "label,no-embed");
  EXPECT_FALSE(nlohmann::json::parse(Call("/info", "", "", "GET").body).contains("key"));
  service_->ClearTightenedOutputPolicy("key-watched");
  EXPECT_EQ(Call("/v1/embeddings", R"({"input":"hello world"})", "watched").status, 200);

  // A licence's policy applies to every key, keyless requests included.
  release::Licence licence;
  licence.licensee = "Acme";
  licence.model_id = "tiny";
  licence.not_before = "2026-01-01";
  licence.expires = "2026-01-31";
  licence.features = {"embed", "output:embed-dims:4", "output:embed-decimals:4"};
  Start(licence);
  now_ = (*release::ParseDate("2026-01-15")) * 86400;
  for (const char* key : {"", "good"}) {
    const auto licensed =
        nlohmann::json::parse(Call("/embed", R"({"inputs":"hello world"})", key).body)[0];
    EXPECT_EQ(Floats(licensed), CutReference(full, 4, 4)) << key;
  }
  // The key's own policy is stricter on decimals: 2 of them, 4 dimensions.
  const auto both =
      nlohmann::json::parse(Call("/embed", R"({"inputs":"hello world"})", "rounded").body)[0];
  EXPECT_EQ(Floats(both), CutReference(full, 4, 2));
  const auto info_licensed = nlohmann::json::parse(Call("/info", "", "rounded", "GET").body);
  EXPECT_EQ(info_licensed["licence"]["output_policy"], "embed-dims:4,embed-decimals:4");
  EXPECT_EQ(info_licensed["key"]["output_policy"], "embed-dims:4,embed-decimals:2");
}

}  // namespace
}  // namespace mg::serve
