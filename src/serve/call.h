// Call: the state of one inference request as it moves from the I/O thread
// through a worker, the batcher and back (service.cc), and the reply
// formatters of each route family (routes_*.cc). Internal to the serve module.
//
// A Call is owned by shared_ptr and touched by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "model/bert_config.h"
#include "model/bert_encoder.h"
#include "serve/api_error.h"
#include "serve/batcher.h"
#include "serve/gate.h"
#include "serve/http_types.h"
#include "serve/privacy_filter.h"
#include "serve/schema.h"
#include "text/tokenizer.h"

namespace mg::serve {

enum class Route { kEmbed, kOpenAiEmbed, kPredict, kTokenize, kItems, kItemsDelete, kRecommend };

inline bool IsRecommendRoute(Route route) {
  return route == Route::kItems || route == Route::kItemsDelete || route == Route::kRecommend;
}

struct Call {
  HttpRequest request;
  Responder respond;
  Route route = Route::kEmbed;
  std::string route_name;  // "/embed", ...
  ApiStyle style = ApiStyle::kTei;
  Task task = Task::kEmbed;
  std::string scope;  // "embed" or "classify"
  std::chrono::steady_clock::time_point start;

  // The parsed request.
  TextInputs inputs;
  bool truncate = false;
  bool normalize = true;
  bool raw_scores = false;
  bool base64 = false;
  bool add_special_tokens = true;
  std::string openai_model;

  // Tokenised inputs and what was measured on the way.
  model::PackedBatch packed;
  int64_t characters = 0;
  double tokenize_ms = 0;
  PiiCounts pii{};
  size_t pii_total = 0;

  int64_t listed_tokens = 0;  // /tokenize: the tokens of its reply (nothing is packed)

  Admission admission;
  bool unauthenticated = false;  // refused for want of a key anyone holds
  bool admitted = false;
  bool answered = false;
  bool counted = false;  // in Service::in_flight()

  // What the request consumes: tokens run through the model, or listed by /tokenize.
  int64_t tokens() const { return route == Route::kTokenize ? listed_tokens : packed.tokens(); }

  GateRequest gate_request() const {
    GateRequest gate;
    gate.api_key = request.api_key;
    gate.route = route_name;
    gate.scope = scope;
    gate.request_id = request.request_id;
    gate.tokens = tokens();
    return gate;
  }
};

// Parses the body of `call` by its route into its fields; nullopt when valid.
std::optional<ApiError> ParseCall(const SchemaLimits& limits, Call* call);

// Reply bodies of the inference routes.
std::string FormatEmbeddings(const Call& call, BatchResult* result);
std::string FormatOpenAiEmbeddings(const Call& call, const std::string& model_id,
                                   BatchResult* result);
std::string FormatPredictions(const Call& call, const model::BertConfig& config,
                              BatchResult* result);
// /tokenize answers from the tokenizer alone; `tokens` is set to how many it lists.
Result<std::string> FormatTokens(const Call& call, const text::Tokenizer& tokenizer,
                                 int64_t* tokens);

}  // namespace mg::serve
