// /info: what the server runs — TEI's fields, plus the release and licence,
// and for a request with a valid key that key's output policy.
#include <nlohmann/json.hpp>

#include "serve/routes.h"
#include "serve/service.h"
#include "serve/worker_pool.h"

namespace mg::serve {

std::string Service::Info(const Admission* key) const {
  using nlohmann::json;
  const model::Model& model = *served_.model;
  json info;
  info["model_id"] = served_.model_id;
  info["served_model_name"] = served_.model_id;
  info["model_sha"] = served_.sha256;
  info["sha256"] = served_.sha256;
  // The precision the linear layers run in; the rest stays float32.
  switch (model.precision()) {
    case kernels::Precision::kF32:
      info["model_dtype"] = "float32";
      break;
    case kernels::Precision::kBf16:
      info["model_dtype"] = "bfloat16";
      break;
    case kernels::Precision::kInt8:
      info["model_dtype"] = "int8";
      break;
  }
  if (served_.precision_report) {
    const release::PrecisionReport& report = *served_.precision_report;
    info["precision_report"] = {
        {"dtype", std::string(kernels::PrecisionName(report.dtype))},
        {"data", report.data},
        {"data_sha256", report.data_sha256},
        {"examples", report.examples},
        {"comparison", json::parse(report.comparison_json, nullptr, false)}};
  }
  if (model.is_classifier()) {
    json id2label = json::object();
    json label2id = json::object();
    const auto& labels = model.config().labels;
    for (size_t i = 0; i < labels.size(); ++i) {
      id2label[std::to_string(i)] = labels[i];
      label2id[labels[i]] = i;
    }
    // A one-label classifier scores pairs (a cross-encoder): TEI calls it a reranker.
    const char* type = labels.size() == 1 ? "reranker" : "classifier";
    info["model_type"] = {{type, {{"id2label", id2label}, {"label2id", label2id}}}};
  } else {
    info["model_type"] = {
        {"embedding",
         {{"pooling", model.default_pooling() == model::Pooling::kCls ? "cls" : "mean"}}}};
  }
  info["hidden_size"] = model.config().hidden_size;
  info["max_concurrent_requests"] = options_.max_concurrent_requests;
  info["max_input_length"] = options_.max_input_length;
  info["max_batch_tokens"] = options_.max_batch_tokens;
  info["max_batch_requests"] = options_.max_batch_requests;
  info["max_client_batch_size"] = options_.max_client_batch_size;
  info["auto_truncate"] = options_.auto_truncate;
  info["tokenization_workers"] = options_.tokenization_workers;
  info["version"] = options_.version;
  info["release_mode"] = served_.release_mode;
  info["signer"] = served_.signer_key_id.empty() ? json(nullptr) : json(served_.signer_key_id);
  info["privacy"] = std::string(PrivacyModeName(options_.privacy));
  if (served_.licence) {
    info["licence"] = {{"licensee", served_.licence->licensee},
                       {"expires", served_.licence->expires},
                       {"features", served_.licence->features}};
    if (served_.licence->max_requests) {
      info["licence"]["max_requests"] = *served_.licence->max_requests;
    }
    if (served_.licence->max_tokens_per_day) {
      info["licence"]["max_tokens_per_day"] = *served_.licence->max_tokens_per_day;
    }
    info["licence"]["output_policy"] = ToString(licence_.output_policy());
  }
  // Only for a request whose key the gate accepted: what its replies show.
  if (key != nullptr) {
    info["key"] = {{"name", key->key_name.empty() ? json(nullptr) : json(key->key_name)},
                   {"output_policy", ToString(OutputPolicyFor(*key))}};
  }
  return info.dump();
}

void Service::HandleInfoWithKey(const RouteSpec& route, HttpRequest request, Responder respond,
                                std::chrono::steady_clock::time_point /*start*/) {
  auto shared = std::make_shared<HttpRequest>(std::move(request));
  workers_->Post([this, &route, shared, respond = std::move(respond)]() mutable {
    // The key is checked with the scope of the model's own route (/predict's
    // for a classifier, /embed's otherwise); a key that may not call it, or
    // that nobody holds, gets the plain /info.
    GateRequest gate_request;
    gate_request.api_key = shared->api_key;
    gate_request.route = route.name;
    gate_request.scope =
        ScopeName(served_.model->is_classifier() ? Scope::kClassify : Scope::kEmbed);
    gate_request.request_id = shared->request_id;
    const Admission admission = gate_->Authenticate(gate_request);
    HttpResponse response;
    response.body = Info(admission.status == 200 ? &admission : nullptr);
    metrics_.CountRequest(route.name, response.status);
    respond(std::move(response));
  });
}

}  // namespace mg::serve
