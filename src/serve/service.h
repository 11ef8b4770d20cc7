// Service: the HTTP API of `modelgate serve` without the HTTP transport —
// routing (by the route table, routes.h), request schemas, licence and privacy checks,
// tokenisation, the access gate, the dynamic batcher, reply formatting, metrics and logs.
//
// Threads: Handle() runs on an I/O thread and never blocks: cheap routes
// (/health, /info, /metrics) answer inline, inference routes go to the
// tokenisation workers, then the batcher's inference thread, then back to a
// worker to format the reply, which the Responder carries to the I/O thread.
// Gate::Authenticate (first, before the body is read), Gate::Admit and
// Gate::Finish run only on workers.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/output_policy.h"
#include "base/status.h"
#include "release/licence_policy.h"
#include "release/served_model.h"
#include "release/watermark.h"
#include "serve/api_error.h"
#include "serve/extraction_monitor.h"
#include "serve/gate.h"
#include "serve/http_types.h"
#include "serve/logger.h"
#include "serve/metrics.h"
#include "serve/privacy_filter.h"

namespace mg::serve {

class Batcher;
class WorkerPool;
struct Call;
struct BatchResult;
struct RecommendState;
struct RouteSpec;

struct ServiceOptions {
  int max_concurrent_requests = 512;  // inference requests in flight; more get 503
  int64_t max_batch_tokens = 16384;
  int max_batch_requests = 64;
  // Inputs per request; more get 422. 0: DefaultMaxClientBatchSize.
  size_t max_client_batch_size = 0;
  size_t max_input_length = 0;  // tokens per input; 0: the model's limit
  // A request that does not say "truncate" truncates over-long inputs
  // (TEI's --auto-truncate); with false it gets 422.
  bool auto_truncate = true;
  int tokenization_workers = 2;
  int gemm_threads = 0;           // of the inference thread; 0: all cores
  double request_timeout_s = 30;  // queued longer than this: 503
  PrivacyMode privacy = PrivacyMode::kLog;
  std::vector<privacy::EntityType> privacy_entities;  // empty: every type
  // The clock licence expiry is checked against, per request (LicencePolicy;
  // default: Env::Default(), as SecondsClock).
  std::function<std::chrono::sys_seconds()> clock;
  std::string version = "0.1.0";
  // /metrics needs a key the gate admits with its route's scope (admin).
  bool metrics_auth = false;
  // Recommendation catalogue folder (--index) behind /v1/items and
  // /v1/recommend (routes_recommend.cc); empty: those routes answer 404.
  std::string catalogue_dir;
  // --watermark-key: marks embeddings and scores (release/watermark.h);
  // null: answers unmarked. Never shown in /info or logged.
  std::shared_ptr<const release::WatermarkKey> watermark;
  // --extraction-alarm: each key's query stream is watched for model
  // extraction (extraction_monitor.h); nullopt: off. Needs keys (a gate
  // that names them); requests without a key id are not watched.
  std::optional<ExtractionOptions> extraction;
  ExtractionAction extraction_action = ExtractionAction::kNone;
};

// The default --max-client-batch-size: the inputs of one request whose
// worst case (every input max_input_length tokens) stays within both bounds
// of docs/serving.md, "Batch limit": 64 MiB of request memory (ids, rows and
// reply) and 64 batches of max_batch_tokens on the inference thread;
// between 32 and 8192.
size_t DefaultMaxClientBatchSize(size_t max_input_length, int64_t max_batch_tokens,
                                 int64_t hidden_size);

class Service {
 public:
  static Result<std::unique_ptr<Service>> Create(ServiceOptions options,
                                                 release::ServedModel served,
                                                 std::unique_ptr<Gate> gate, Logger* logger);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Answers `request` through `respond`, now or later. Never blocks.
  void Handle(HttpRequest request, Responder respond);

  // From now on inference requests get 503 "shutting down"; /health too.
  void BeginShutdown();
  // Inference requests accepted and not yet answered.
  int64_t in_flight() const { return in_flight_.load(); }
  // Finishes queued work and stops the threads (after BeginShutdown()).
  void Stop();

  // Routes under /admin/ (admin_api.h); they block on a database, so they
  // run on the workers. Set before serving; without it /admin/* is 404.
  using AdminHandler = std::function<HttpResponse(const HttpRequest&)>;
  void SetAdminHandler(AdminHandler handler) { admin_ = std::move(handler); }

  // Output policies (docs/serving.md, "Output policies"). A request's reply
  // shows what the stricter of the licence's policy, its key's policy and
  // any policy set here for its key allows; OutputPolicyFor is that, and
  // what every request's formatter reads.
  //
  // TightenOutputPolicy narrows what replies to `key_id` (Admission::key_id;
  // empty: requests without a key) show from the next request on, in this
  // process only (e.g. degrading a key that looks like it is harvesting
  // outputs to "label"): the key's policy becomes the stricter of the one in
  // force and `policy`, so it never widens. ClearTightenedOutputPolicy
  // forgets what was set for `key_id`. Both are cheap, never block on I/O and
  // may be called from any thread.
  void TightenOutputPolicy(std::string_view key_id, const OutputPolicy& policy);
  void ClearTightenedOutputPolicy(std::string_view key_id);
  OutputPolicy OutputPolicyFor(const Admission& authentication) const;

  Metrics& metrics() { return metrics_; }
  const ServiceOptions& options() const { return options_; }

 private:
  Service(ServiceOptions options, release::ServedModel served, std::unique_ptr<Gate> gate,
          Logger* logger);

  void Process(std::shared_ptr<Call> call);
  void Complete(std::shared_ptr<Call> call, BatchResult result);
  void Reply(Call& call, HttpResponse response);
  void Fail(Call& call, const ApiError& error);
  // /info; with `key` (a request that carried a key the gate accepted), the
  // key's name and effective output policy too.
  std::string Info(const Admission* key = nullptr) const;
  // /info with a key: authenticated on a worker, then answered.
  void HandleInfoWithKey(const RouteSpec& route, HttpRequest request, Responder respond,
                         std::chrono::steady_clock::time_point start);
  // Why the route may not answer under the call's output policy (parameters
  // that would show more, or a reply the policy withholds); nullopt when it
  // may.
  std::optional<ApiError> RefusedByOutputPolicy(const Call& call) const;
  HttpResponse MetricsResponse() const;
  // /metrics with --metrics-auth: admitted by the gate with the route's scope.
  void HandleMetricsWithKey(const RouteSpec& route, HttpRequest request, Responder respond,
                            std::chrono::steady_clock::time_point start);
  // Asks the gate whether the key may make the request at all, before any
  // work on it; on refusal answers the call and returns false.
  bool Authenticate(Call& call);
  // Counts (and now and then logs) a request refused for want of a key.
  void NoteUnauthenticated();
  // The licence's terms and the route's feature, now; on refusal answers
  // the call (403) and returns false.
  bool LicenceAllows(Call& call);
  bool ScreenPrivacy(Call& call);
  // Asks the gate; on refusal answers the call and returns false.
  bool Admit(Call& call);
  bool Tokenize(Call& call);
  // --extraction-alarm with the throttle action: refuses (429) a key that
  // alarmed and is over its cap; returns false then.
  bool ExtractionAllows(Call& call);
  // Feeds the monitor each input of an answered call (before the reply is
  // formatted, which may change the rows); acts on an alarm.
  void ObserveExtraction(const Call& call, const BatchResult& result);
  // /v1/items, /v1/items/delete and /v1/recommend (routes_recommend.cc).
  Status OpenCatalogue();
  void ProcessRecommend(std::shared_ptr<Call> call);
  void FinishRecommend(std::shared_ptr<Call> call, const std::vector<std::string>& texts,
                       std::vector<float> rows, int64_t width);

  ServiceOptions options_;
  release::ServedModel served_;
  release::LicencePolicy licence_;  // of served_
  std::unique_ptr<Gate> gate_;
  Logger* logger_;
  Metrics metrics_;
  SampledLog unauthenticated_log_;
  std::unique_ptr<PrivacyFilter> privacy_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<Batcher> batcher_;
  std::shared_ptr<RecommendState> recommend_;            // null without --index
  std::unique_ptr<release::OutputWatermark> watermark_;  // null without --watermark-key
  std::unique_ptr<ExtractionMonitor> extraction_;        // null without --extraction-alarm
  std::vector<bool> special_ids_;  // by token id: left out of the extraction alarm's queries
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> shutting_down_{false};
  AdminHandler admin_;
  // Policies set by TightenOutputPolicy, by key id.
  mutable std::mutex tightened_mutex_;
  std::map<std::string, OutputPolicy, std::less<>> tightened_;  // guarded by tightened_mutex_
};

}  // namespace mg::serve
