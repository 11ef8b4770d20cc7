#include "serve/service.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

#include "base/env.h"
#include "kernels/gemm.h"
#include "serve/api_error.h"
#include "serve/batcher.h"
#include "serve/call.h"
#include "serve/routes.h"
#include "serve/routes_dashboard.h"
#include "serve/worker_pool.h"

namespace mg::serve {
namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

HttpResponse ErrorResponse(ApiStyle style, const ApiError& error) {
  HttpResponse response;
  response.status = error.status;
  response.body = ErrorBody(style, error);
  response.headers = ErrorHeaders(error);
  return response;
}

std::string Milliseconds(double ms) { return std::to_string(static_cast<int64_t>(ms + 0.5)); }

// The rows of a request that ran as several jobs, as they come back.
struct GatheredRows {
  std::mutex mutex;
  std::vector<BatchResult> parts;  // guarded by mutex
  size_t remaining = 0;            // guarded by mutex
};

// `packed` cut at sequence boundaries into parts of at most `max_tokens`
// tokens (a sequence longer than that gets a part of its own).
std::vector<model::PackedBatch> SplitPacked(const model::PackedBatch& packed, int64_t max_tokens) {
  std::vector<model::PackedBatch> parts;
  if (packed.tokens() <= max_tokens) {
    parts.push_back(packed);
    return parts;
  }
  for (int64_t s = 0; s < packed.sequences(); ++s) {
    const int64_t begin = packed.offsets[s];
    const int64_t end = packed.offsets[s + 1];
    if (parts.empty() ||
        (parts.back().tokens() > 0 && parts.back().tokens() + (end - begin) > max_tokens)) {
      parts.emplace_back();
    }
    model::PackedBatch& part = parts.back();
    part.ids.insert(part.ids.end(), packed.ids.begin() + begin, packed.ids.begin() + end);
    part.type_ids.insert(part.type_ids.end(), packed.type_ids.begin() + begin,
                         packed.type_ids.begin() + end);
    part.offsets.push_back(part.tokens());
  }
  return parts;
}

// The parts' rows in order; the first failure, if any; the longest queue
// wait and the inference time of all.
BatchResult MergeRows(std::vector<BatchResult> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  BatchResult all;
  for (BatchResult& part : parts) {
    if (!part.status.ok() && all.status.ok()) all.status = part.status;
    all.width = part.width;
    all.values.insert(all.values.end(), part.values.begin(), part.values.end());
    all.queue_ms = std::max(all.queue_ms, part.queue_ms);
    all.inference_ms += part.inference_ms;
    all.batch_requests = std::max(all.batch_requests, part.batch_requests);
  }
  return all;
}

}  // namespace

size_t DefaultMaxClientBatchSize(size_t max_input_length, int64_t max_batch_tokens,
                                 int64_t hidden_size) {
  constexpr int64_t kRequestMemoryBytes = int64_t{64} << 20;
  constexpr int64_t kBatchesPerRequest = 64;
  const int64_t tokens = std::max<int64_t>(1, static_cast<int64_t>(max_input_length));
  // Per input: its ids and type ids (8 bytes a token), its row of floats
  // and that row in the JSON reply (about 12 bytes a value).
  const int64_t bytes_per_input = 8 * tokens + 16 * std::max<int64_t>(1, hidden_size);
  const int64_t by_memory = kRequestMemoryBytes / bytes_per_input;
  const int64_t by_latency = kBatchesPerRequest * std::max<int64_t>(1, max_batch_tokens) / tokens;
  return static_cast<size_t>(std::clamp<int64_t>(std::min(by_memory, by_latency), 32, 8192));
}

Result<std::unique_ptr<Service>> Service::Create(ServiceOptions options,
                                                 release::ServedModel served,
                                                 std::unique_ptr<Gate> gate, Logger* logger) {
  if (!served.model) return InvalidArgumentError("no model to serve");
  if (!gate) gate = std::make_unique<OpenGate>();
  if (!options.clock) options.clock = SecondsClock(Env::Default());
  const size_t model_limit = served.model->max_length();
  if (options.max_input_length == 0 || options.max_input_length > model_limit) {
    options.max_input_length = model_limit;
  }
  if (options.max_batch_tokens < static_cast<int64_t>(options.max_input_length)) {
    return InvalidArgumentError("--max-batch-tokens (" + std::to_string(options.max_batch_tokens) +
                                ") must be at least --max-input-length (" +
                                std::to_string(options.max_input_length) + ")");
  }
  if (options.max_client_batch_size == 0) {
    options.max_client_batch_size = DefaultMaxClientBatchSize(
        options.max_input_length, options.max_batch_tokens, served.model->config().hidden_size);
  }
  std::unique_ptr<Service> service(
      new Service(std::move(options), std::move(served), std::move(gate), logger));
  MG_ASSIGN_OR_RETURN(service->privacy_, PrivacyFilter::Create(service->options_.privacy,
                                                               service->options_.privacy_entities));
  MG_RETURN_IF_ERROR(service->OpenCatalogue());
  if (service->options_.extraction) {
    ExtractionOptions extraction = *service->options_.extraction;
    const model::Model& model = *service->served_.model;
    extraction.vocab_size = static_cast<int32_t>(model.config().vocab_size);
    if (service->options_.extraction_action != ExtractionAction::kThrottle) {
      extraction.throttle_per_minute = 0;
    }
    service->special_ids_.resize(static_cast<size_t>(extraction.vocab_size));
    for (int32_t id = 0; id < extraction.vocab_size; ++id) {
      service->special_ids_[static_cast<size_t>(id)] = model.tokenizer().IsSpecialId(id);
    }
    service->extraction_ = std::make_unique<ExtractionMonitor>(extraction);
  }
  return service;
}

Service::Service(ServiceOptions options, release::ServedModel served, std::unique_ptr<Gate> gate,
                 Logger* logger)
    : options_(std::move(options)),
      served_(std::move(served)),
      licence_(release::LicencePolicy::For(served_)),
      gate_(std::move(gate)),
      logger_(logger),
      unauthenticated_log_(logger, LogLevel::kWarn, "requests refused without a valid API key",
                           std::chrono::minutes(1)) {
  workers_ = std::make_unique<WorkerPool>(std::max(1, options_.tokenization_workers));
  BatcherOptions batcher_options;
  batcher_options.max_batch_tokens = options_.max_batch_tokens;
  batcher_options.max_batch_requests = options_.max_batch_requests;
  batcher_options.on_start = [threads = options_.gemm_threads] { kernels::SetThreads(threads); };
  batcher_options.on_batch = [this](int requests, int64_t tokens, double inference_ms) {
    metrics_.batch_requests.Observe(requests);
    metrics_.batch_tokens.Observe(static_cast<double>(tokens));
    metrics_.inference_seconds.Observe(inference_ms / 1000);
    metrics_.CountTokens(tokens);
  };
  const model::Model* model = served_.model.get();
  auto workspace = std::make_shared<model::EncoderWorkspace>();
  batcher_ = std::make_unique<Batcher>(
      batcher_options, [model, workspace](Task task, const model::PackedBatch& batch,
                                          std::vector<float>* out, int64_t* width) {
        if (task == Task::kEmbed) {
          model->Embed(batch, model->default_pooling(), /*normalize=*/false, workspace.get(), out);
          *width = model->config().hidden_size;
        } else if (task == Task::kEmbedTokens) {
          const Tensor& hidden = model->encoder().Forward(batch, workspace.get());
          const float* values = hidden.data<float>();
          out->assign(values, values + hidden.numel());
          *width = model->config().hidden_size;
        } else {
          const Tensor& hidden = model->encoder().Forward(batch, workspace.get());
          model->encoder().Classify(batch, hidden, workspace.get(), out);
          *width = static_cast<int64_t>(model->config().labels.size());
        }
      });
  if (options_.watermark) {
    watermark_ = std::make_unique<release::OutputWatermark>(*options_.watermark,
                                                            served_.model->config().hidden_size);
  }
  metrics_.SetGauges([this] { return static_cast<int64_t>(batcher_->queue_depth()); },
                     [this] { return in_flight_.load(); });
}

Service::~Service() { Stop(); }

void Service::BeginShutdown() { shutting_down_ = true; }

void Service::Stop() {
  shutting_down_ = true;
  // The batcher first: it runs what is queued and its replies go to the
  // workers, which then run every task posted so far (and any posted while
  // they drain) before they join.
  if (batcher_) batcher_->Stop();
  if (workers_) workers_->Stop();
}

void Service::Handle(HttpRequest request, Responder respond) {
  const Clock::time_point start = Clock::now();
  auto simple = [&](std::string_view route, HttpResponse response) {
    metrics_.CountRequest(route, response.status);
    if (logger_->Enabled(LogLevel::kDebug)) {
      logger_->Log(LogLevel::kDebug, "request",
                   {{"request_id", request.request_id},
                    {"route", std::string(route)},
                    {"status", response.status},
                    {"latency_ms", MillisecondsSince(start)}});
    }
    respond(std::move(response));
  };
  const RouteSpec* route = FindRoute(request.path, request.method);
  if (route == nullptr || (route->pipeline == Pipeline::kAdmin && !admin_)) {
    // Under /v1/ errors take OpenAI's shape, elsewhere TEI's.
    const ApiStyle style = request.path.starts_with("/v1/") ? ApiStyle::kOpenAi : ApiStyle::kTei;
    return simple("other", ErrorResponse(style, {404, "not_found", "no route " + request.path}));
  }
  switch (route->pipeline) {
    case Pipeline::kHealth: {
      HttpResponse response;
      if (shutting_down_) {
        response = ErrorResponse(route->style, {503, "unhealthy", "the server is shutting down"});
      }
      return simple(route->name, std::move(response));
    }
    case Pipeline::kPing: {
      HttpResponse response;
      response.body = "{\"status\":\"ok\"}";
      return simple(route->name, std::move(response));
    }
    case Pipeline::kInfo: {
      // With a key, the gate (which may block) answers on a worker.
      if (!request.api_key.empty() && !shutting_down_) {
        return HandleInfoWithKey(*route, std::move(request), std::move(respond), start);
      }
      HttpResponse response;
      response.body = Info();
      return simple(route->name, std::move(response));
    }
    case Pipeline::kMetrics: {
      if (options_.metrics_auth)
        return HandleMetricsWithKey(*route, std::move(request), std::move(respond), start);
      return simple(route->name, MetricsResponse());
    }
    case Pipeline::kAdmin: {
      auto shared = std::make_shared<HttpRequest>(std::move(request));
      workers_->Post([this, route, shared, respond = std::move(respond), start]() mutable {
        HttpResponse response = admin_(*shared);
        if (response.status == 401) NoteUnauthenticated();
        metrics_.CountRequest(route->name, response.status);
        metrics_.total_seconds.Observe(MillisecondsSince(start) / 1000);
        respond(std::move(response));
      });
      return;
    }
    case Pipeline::kDashboard:
      return simple(route->name, DashboardResponse(request));
    case Pipeline::kByModelType:
    case Pipeline::kModel:
    case Pipeline::kTokenizer:
    case Pipeline::kCatalogue:
      break;
  }
  bool single_as_batch = false;
  if (route->pipeline == Pipeline::kByModelType && request.method == route->method) {
    const bool classifier = served_.model->is_classifier();
    single_as_batch = route->single_as_batch && classifier;
    route = FindRoute(classifier ? "/predict" : "/embed", route->method);
  }
  auto call = std::make_shared<Call>();
  call->single_as_batch = single_as_batch;
  call->route = route;
  call->start = start;
  call->request = std::move(request);
  call->respond = std::move(respond);
  if (!route->method.empty() && call->request.method != route->method) {
    return Fail(*call, {405, "method_not_allowed",
                        std::string(route->name) + " takes " + std::string(route->method)});
  }
  if (shutting_down_) return Fail(*call, {503, "unavailable", "the server is shutting down"});
  if (in_flight_.fetch_add(1) >= options_.max_concurrent_requests) {
    in_flight_.fetch_sub(1);
    return Fail(*call, {503, "overloaded",
                        "Model is overloaded: more than " +
                            std::to_string(options_.max_concurrent_requests) +
                            " requests in flight (--max-concurrent-requests)"});
  }
  call->counted = true;
  workers_->Post([this, call] { Process(call); });
}

HttpResponse Service::MetricsResponse() const {
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4";
  response.body = metrics_.Render();
  response.body.append(gate_->MetricsText());
  if (extraction_) response.body.append(extraction_->MetricsText());
  return response;
}

void Service::HandleMetricsWithKey(const RouteSpec& route, HttpRequest request, Responder respond,
                                   Clock::time_point start) {
  auto shared = std::make_shared<HttpRequest>(std::move(request));
  workers_->Post([this, &route, shared, respond = std::move(respond), start]() mutable {
    GateRequest gate_request;
    gate_request.api_key = shared->api_key;
    gate_request.route = route.name;
    gate_request.scope = ScopeName(route.scope);
    gate_request.request_id = shared->request_id;
    const Admission admission = gate_->Admit(gate_request);
    HttpResponse response;
    if (admission.status == 401 && admission.key_name.empty()) NoteUnauthenticated();
    if (admission.status != 200) {
      response = ErrorResponse(route.style, {admission.status, admission.error_type,
                                             admission.message, admission.retry_after_s});
    } else {
      response = MetricsResponse();
      const Status recorded =
          gate_->Finish(admission, gate_request, {200, 0, MillisecondsSince(start)});
      if (!recorded.ok()) response = ErrorResponse(route.style, FinishFailureReply(recorded));
    }
    metrics_.CountRequest(route.name, response.status);
    respond(std::move(response));
  });
}

bool Service::Tokenize(Call& call) {
  const Clock::time_point start = Clock::now();
  const model::Model& model = *served_.model;
  const text::Tokenizer& tokenizer = model.tokenizer();
  const int32_t vocab_size = static_cast<int32_t>(model.config().vocab_size);
  const int32_t unk = tokenizer.unk_id();
  const int32_t type_limit = static_cast<int32_t>(model.config().type_vocab_size);
  const bool truncate = call.truncate.value_or(options_.auto_truncate);
  text::EncodeOptions options;
  text::Encoding encoding;
  // Token ids (OpenAI's input): the model's ids as given, no template added.
  for (const std::vector<int32_t>& ids : call.inputs.ids) {
    for (int32_t id : ids) {
      if (id >= vocab_size) {
        Fail(call, Validation("token id " + std::to_string(id) +
                              " is outside the model's vocabulary of " +
                              std::to_string(vocab_size) + " tokens"));
        return false;
      }
    }
    size_t length = ids.size();
    if (length > options_.max_input_length) {
      if (!truncate) {
        Fail(call, Validation("Input validation error: `inputs` must have less than " +
                              std::to_string(options_.max_input_length + 1) +
                              " tokens. Given: " + std::to_string(length)));
        return false;
      }
      length = options_.max_input_length;
      ++call.truncated_inputs;
    }
    call.packed.ids.insert(call.packed.ids.end(), ids.begin(), ids.begin() + length);
    call.packed.type_ids.insert(call.packed.type_ids.end(), length, 0);
    call.packed.offsets.push_back(call.packed.tokens());
  }
  for (size_t i = 0; i < call.inputs.texts.size(); ++i) {
    const std::string& text = call.inputs.texts[i];
    std::string_view pair_view;  // a view of the request's own text, never a temporary
    if (i < call.inputs.pairs.size() && call.inputs.pairs[i]) pair_view = *call.inputs.pairs[i];
    const std::string_view* pair = pair_view.empty() ? nullptr : &pair_view;
    call.characters += static_cast<int64_t>(text.size() + pair_view.size());
    options.max_length = 0;
    Status status = tokenizer.Encode(text, pair, options, &encoding);
    if (status.ok() && encoding.size() > options_.max_input_length) {
      if (!truncate) {
        Fail(call, Validation("Input validation error: `inputs` must have less than " +
                              std::to_string(options_.max_input_length + 1) +
                              " tokens. Given: " + std::to_string(encoding.size())));
        return false;
      }
      options.max_length = options_.max_input_length;
      status = tokenizer.Encode(text, pair, options, &encoding);
      ++call.truncated_inputs;
    }
    if (!status.ok()) {
      Fail(call, {422, "tokenizer", status.message()});
      return false;
    }
    for (size_t t = 0; t < encoding.size(); ++t) {
      int32_t id = encoding.ids[t];
      if (id >= vocab_size) id = unk >= 0 && unk < vocab_size ? unk : 0;
      call.packed.ids.push_back(id);
      call.packed.type_ids.push_back(encoding.type_ids[t] < type_limit ? encoding.type_ids[t] : 0);
    }
    call.packed.offsets.push_back(call.packed.tokens());
  }
  call.tokenize_ms = MillisecondsSince(start);
  metrics_.tokenize_seconds.Observe(call.tokenize_ms / 1000);
  // A request's inputs run in several batches when they have to (Process);
  // only per-token replies, whose size grows with every token, are bounded.
  if (call.route->task == Task::kEmbedTokens && call.packed.tokens() > options_.max_batch_tokens) {
    Fail(call, Validation("the request has " + std::to_string(call.packed.tokens()) +
                          " tokens, more than --max-batch-tokens " +
                          std::to_string(options_.max_batch_tokens)));
    return false;
  }
  return true;
}

void Service::Process(std::shared_ptr<Call> call) {
  // The key first: a client without one learns nothing about the body, the
  // licence, the privacy verdict or the catalogue, and costs no more work.
  if (!Authenticate(*call)) return;
  call->output = OutputPolicyFor(call->authentication);
  if (!ExtractionAllows(*call)) return;
  const RouteSpec& route = *call->route;
  if (route.pipeline == Pipeline::kCatalogue) return ProcessRecommend(std::move(call));
  SchemaLimits limits;
  limits.max_inputs = options_.max_client_batch_size;
  if (auto error = route.parse(limits, call.get())) return Fail(*call, *error);
  if (!LicenceAllows(*call)) return;
  if (auto refused = RefusedByOutputPolicy(*call)) return Fail(*call, *refused);
  if (route.reranker &&
      !(served_.model->is_classifier() && served_.model->config().labels.size() == 1)) {
    return Fail(*call, {424, "backend", "model is not a re-ranker model"});
  }
  if (route.pipeline == Pipeline::kModel && route.task == Task::kClassify &&
      !served_.model->is_classifier()) {
    return Fail(*call, {424, "backend", "the model is not a classifier: use /embed"});
  }
  const int64_t hidden = served_.model->config().hidden_size;
  if (call->dimensions > hidden) {
    return Fail(*call, Validation("`dimensions` must be between 1 and " + std::to_string(hidden) +
                                  " (the model's embedding size); given " +
                                  std::to_string(call->dimensions)));
  }
  if (!ScreenPrivacy(*call)) return;
  if (route.pipeline == Pipeline::kTokenizer) {
    // Its tokens count towards the key's limits like those of /embed.
    auto body = route.format_tokens(*call, served_.model->tokenizer(), &call->listed_tokens);
    if (!body.ok()) {
      return Fail(*call, {422, route.parse == ParseDecodeCall ? "validation" : "tokenizer",
                          body.status().message()});
    }
    if (!Admit(*call)) return;
    HttpResponse response;
    response.body = std::move(body).value();
    return Reply(*call, std::move(response));
  }
  if (!Tokenize(*call)) return;
  if (!Admit(*call)) return;
  // The inputs in jobs of at most --max-batch-tokens (each input fits one:
  // --max-input-length <= --max-batch-tokens), answered once all are back.
  std::vector<model::PackedBatch> parts = SplitPacked(call->packed, options_.max_batch_tokens);
  auto gather = std::make_shared<GatheredRows>();
  gather->parts.resize(parts.size());
  gather->remaining = parts.size();
  const auto deadline =
      call->start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(options_.request_timeout_s));
  for (size_t p = 0; p < parts.size(); ++p) {
    auto job = std::make_unique<BatchJob>();
    job->task = route.task;
    job->sequences = std::move(parts[p]);
    job->deadline = deadline;
    job->done = [this, call, gather, p](BatchResult result) {
      std::optional<BatchResult> all;
      {
        std::lock_guard<std::mutex> lock(gather->mutex);
        gather->parts[p] = std::move(result);
        if (--gather->remaining > 0) return;
        all = MergeRows(std::move(gather->parts));
      }
      workers_->Post(
          [this, call, result = std::move(*all)]() mutable { Complete(call, std::move(result)); });
    };
    batcher_->Submit(std::move(job));
  }
}

void Service::Complete(std::shared_ptr<Call> call, BatchResult result) {
  metrics_.queue_seconds.Observe(result.queue_ms / 1000);
  if (!result.status.ok()) {
    return Fail(*call, {503, "unavailable", result.status.message()});
  }
  if (extraction_) ObserveExtraction(*call, result);
  HttpResponse response;
  if (watermark_) MarkRows(*call, *watermark_, served_, &result);
  response.body = call->route->format_rows(*call, served_, &result);
  // Text-embeddings-inference's timing headers.
  response.headers.emplace_back("x-compute-type", "cpu");
  response.headers.emplace_back("x-compute-characters", std::to_string(call->characters));
  response.headers.emplace_back("x-compute-tokens", std::to_string(call->packed.tokens()));
  response.headers.emplace_back("x-total-time", Milliseconds(MillisecondsSince(call->start)));
  response.headers.emplace_back("x-tokenization-time", Milliseconds(call->tokenize_ms));
  response.headers.emplace_back("x-queue-time", Milliseconds(result.queue_ms));
  response.headers.emplace_back("x-inference-time", Milliseconds(result.inference_ms));
  response.headers.emplace_back("x-compute-time",
                                Milliseconds(call->tokenize_ms + result.inference_ms));
  if (call->truncated_inputs > 0) {
    response.headers.emplace_back("x-truncated-inputs", std::to_string(call->truncated_inputs));
  }
  Reply(*call, std::move(response));
}

void Service::Fail(Call& call, const ApiError& error) {
  Reply(call, ErrorResponse(call.route->style, error));
}

void Service::Reply(Call& call, HttpResponse response) {
  if (call.answered) return;
  call.answered = true;
  const double latency_ms = MillisecondsSince(call.start);
  if (call.admitted) {
    // Recorded before it is sent: a reply the client receives is in the ledger.
    Outcome outcome{response.status, call.tokens(), latency_ms};
    const Status recorded = gate_->Finish(call.admission, call.gate_request(), outcome);
    if (!recorded.ok()) {
      logger_->Log(LogLevel::kError, "gate finish failed",
                   {{"request_id", call.request.request_id}, {"error", recorded.message()}});
      response = ErrorResponse(call.route->style, FinishFailureReply(recorded));
    }
  }
  const int status = response.status;
  // Anyone can send these by the thousand: counted, not logged one line each.
  // Counted before the reply leaves, so a client that has its answer sees it
  // in /metrics.
  if (call.unauthenticated) NoteUnauthenticated();
  call.respond(std::move(response));
  metrics_.CountRequest(call.route->name, status);
  metrics_.total_seconds.Observe(latency_ms / 1000);
  if (call.unauthenticated) {
    if (call.counted) in_flight_.fetch_sub(1);
    return;
  }
  // Never the request text: ids, counts and timings only.
  std::vector<LogField> fields = {{"request_id", call.request.request_id},
                                  {"route", std::string(call.route->name)},
                                  {"status", status},
                                  {"latency_ms", latency_ms},
                                  {"inputs", static_cast<int64_t>(call.inputs.size())},
                                  {"tokens", call.tokens()}};
  if (!call.admission.key_id.empty()) fields.emplace_back("key_id", call.admission.key_id);
  if (privacy_->mode() != PrivacyMode::kOff) {
    fields.emplace_back("pii", static_cast<int64_t>(call.pii_total));
  }
  logger_->Log(status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request", fields);
  if (call.counted) in_flight_.fetch_sub(1);
}

}  // namespace mg::serve
