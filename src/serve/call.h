// Call: the state of one request of a request pipeline (routes.h) as it
// moves from the I/O thread through a worker, the batcher and back
// (service.cc), and the parsers and reply formatters of each route family
// (routes_*.cc). Internal to the serve module.
//
// A Call is owned by shared_ptr and touched by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/output_policy.h"
#include "model/bert_encoder.h"
#include "release/served_model.h"
#include "release/watermark.h"
#include "serve/api_error.h"
#include "serve/batcher.h"
#include "serve/gate.h"
#include "serve/http_types.h"
#include "serve/privacy_filter.h"
#include "serve/routes.h"
#include "serve/schema.h"
#include "text/tokenizer.h"

namespace mg::serve {

struct Call {
  HttpRequest request;
  Responder respond;
  const RouteSpec* route = nullptr;  // set on dispatch; an entry of Routes()
  std::chrono::steady_clock::time_point start;

  // The parsed request.
  TextInputs inputs;
  // Whether over-long inputs are truncated; nullopt: as --auto-truncate says.
  std::optional<bool> truncate;
  bool normalize = true;
  bool raw_scores = false;
  bool base64 = false;
  bool add_special_tokens = true;
  int64_t dimensions = 0;  // > 0: embeddings cut to this width (Matryoshka)
  std::string openai_model;
  // POST /: a classifier's single input is answered as a batch of one
  // ([[{label, score}, ...]]), as Hugging Face Inference Endpoints do.
  bool single_as_batch = false;
  // /decode: the ids to turn back into text.
  std::vector<std::vector<int32_t>> decode_ids;
  bool skip_special_tokens = true;
  // /rerank and /v1/rerank: the texts ranked are the pairs of `inputs`
  // (whose texts all hold the query).
  bool return_text = false;
  std::optional<size_t> top_n;  // /v1/rerank: the best this many only

  // Tokenised inputs and what was measured on the way.
  model::PackedBatch packed;
  int64_t characters = 0;
  double tokenize_ms = 0;
  PiiCounts pii{};
  size_t pii_total = 0;
  int64_t truncated_inputs = 0;  // sent back as x-truncated-inputs

  int64_t listed_tokens = 0;  // /tokenize: the tokens of its reply (nothing is packed)

  Admission authentication;  // Gate::Authenticate's verdict (its key row goes to Admit)
  // What the reply may show (Service::OutputPolicyFor), set once the key is
  // known; every formatter cuts its reply to it.
  OutputPolicy output;
  Admission admission;
  bool unauthenticated = false;  // refused for want of a key anyone holds
  bool admitted = false;
  bool answered = false;
  bool counted = false;  // in Service::in_flight()

  // What the request consumes: tokens run through the model, or listed by /tokenize.
  int64_t tokens() const {
    return route->pipeline == Pipeline::kTokenizer ? listed_tokens : packed.tokens();
  }

  GateRequest gate_request() const {
    GateRequest gate;
    gate.api_key = request.api_key;
    gate.route = route->name;
    gate.scope = ScopeName(route->scope);
    gate.request_id = request.request_id;
    gate.tokens = tokens();
    if (authentication.key) gate.key = &*authentication.key;
    return gate;
  }
};

// Cutting replies to the call's output policy (service_output.cc).
// How many of `labels` ranked labels (or texts) a reply lists.
size_t ShownLabels(const OutputPolicy& policy, size_t labels);
// A score as the policy shows it: rounded, or null when scores are withheld.
void AppendPolicyScore(std::string* out, float score, const OutputPolicy& policy);
// The width embeddings of `width` values are cut to.
int64_t PolicyEmbeddingWidth(const OutputPolicy& policy, int64_t width);
// `row`'s values rounded to the policy's decimals, in place.
void RoundEmbedding(const OutputPolicy& policy, float* row, int64_t width);

// The handlers of the request routes (RouteSpec::parse and its formatter),
// one routes_<family>.cc file per family.
// routes_embed.cc: /embed and /v1/embeddings.
std::optional<ApiError> ParseEmbedCall(const SchemaLimits& limits, Call* call);
std::string FormatEmbeddings(const Call& call, const release::ServedModel& served,
                             BatchResult* result);
std::optional<ApiError> ParseOpenAiEmbedCall(const SchemaLimits& limits, Call* call);
std::string FormatOpenAiEmbeddings(const Call& call, const release::ServedModel& served,
                                   BatchResult* result);
// routes_predict.cc: /predict, scores through the model's output activation
// unless the request asks for raw scores.
std::optional<ApiError> ParsePredictCall(const SchemaLimits& limits, Call* call);
std::string FormatPredictions(const Call& call, const release::ServedModel& served,
                              BatchResult* result);
// /similarity: the cosine of the source sentence's embedding (texts[0]) with
// each sentence's; /embed_all: per input its tokens' hidden states;
// /embed_sparse: refused (no supported model has a sparse head).
std::optional<ApiError> ParseSimilarityCall(const SchemaLimits& limits, Call* call);
std::string FormatSimilarities(const Call& call, const release::ServedModel& served,
                               BatchResult* result);
std::optional<ApiError> ParseEmbedAllCall(const SchemaLimits& limits, Call* call);
std::string FormatTokenEmbeddings(const Call& call, const release::ServedModel& served,
                                  BatchResult* result);
std::optional<ApiError> RefuseEmbedSparseCall(const SchemaLimits& limits, Call* call);
// routes_tokenize.cc: /tokenize and /decode, answered from the tokenizer alone.
// routes_rerank.cc: /rerank (TEI) and /v1/rerank (Cohere, Jina): the query
// paired with each text, scored by a one-label classifier (a cross-encoder),
// best first.
std::optional<ApiError> ParseRerankCall(const SchemaLimits& limits, Call* call);
std::string FormatRerank(const Call& call, const release::ServedModel& served, BatchResult* result);
std::optional<ApiError> ParseCohereRerankCall(const SchemaLimits& limits, Call* call);
std::string FormatCohereRerank(const Call& call, const release::ServedModel& served,
                               BatchResult* result);
// routes_tokenize.cc: /tokenize, answered from the tokenizer alone.
std::optional<ApiError> ParseTokenizeCall(const SchemaLimits& limits, Call* call);
Result<std::string> FormatTokens(const Call& call, const text::Tokenizer& tokenizer,
                                 int64_t* tokens);
std::optional<ApiError> ParseDecodeCall(const SchemaLimits& limits, Call* call);
Result<std::string> FormatDecoded(const Call& call, const text::Tokenizer& tokenizer,
                                  int64_t* tokens);

// output_watermark.cc: marks the rows the batcher computed for `call`
// before any route formats them — pooled embeddings (/embed, /v1/embeddings,
// /similarity), token states (/embed_all) and classifier scores (/predict) —
// by each input's text. Token-id inputs carry no words and stay unmarked.
void MarkRows(const Call& call, const release::OutputWatermark& watermark,
              const release::ServedModel& served, BatchResult* result);

}  // namespace mg::serve
