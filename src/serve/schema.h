// Request schemas: the JSON bodies of the inference routes in the shapes of
// Hugging Face text-embeddings-inference (/embed, /predict, /tokenize,
// /rerank), OpenAI (/v1/embeddings) and Cohere (/v1/rerank), parsed and
// validated into plain structs.
//
// Malformed JSON and invalid UTF-8 are 400 ("bad_request"), so is an empty
// list of inputs (TEI's "Empty"); a wrong type, a missing or empty input or
// too many inputs is 422 ("validation"). Unknown fields are ignored, as
// TEI and OpenAI do. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/api_error.h"

namespace mg::serve {

// The texts of one request. `batched` says whether the client sent a list
// (and so expects a list back) or a single input.
struct TextInputs {
  std::vector<std::string> texts;
  std::vector<std::optional<std::string>> pairs;  // empty, or one per text
  // OpenAI's token-id inputs ([1, 2, 3] or [[1, 2], ...]): used as the
  // model's ids as given; when set, `texts` is empty.
  std::vector<std::vector<int32_t>> ids;
  bool batched = false;

  size_t size() const { return ids.empty() ? texts.size() : ids.size(); }
};

struct SchemaLimits {
  size_t max_inputs = 32;  // TEI's max_client_batch_size
};

// "truncate" absent is nullopt: the server's --auto-truncate decides.
struct EmbedRequest {
  TextInputs inputs;
  bool normalize = true;
  std::optional<bool> truncate;
  int64_t dimensions = 0;  // 0: the model's width; checked against it later
};

struct PredictRequest {
  TextInputs inputs;
  std::optional<bool> truncate;
  bool raw_scores = false;
};

struct OpenAiEmbedRequest {
  TextInputs inputs;
  std::string model;
  bool base64 = false;     // encoding_format "base64"
  int64_t dimensions = 0;  // 0: the model's width
};

// TEI's /similarity: {"inputs": {"source_sentence", "sentences": [...]}};
// texts[0] is the source sentence, the rest the sentences.
struct SimilarityRequest {
  TextInputs inputs;
  std::optional<bool> truncate;
};

// TEI's /embed_all: per input, one row per token.
struct EmbedAllRequest {
  TextInputs inputs;
  std::optional<bool> truncate;
};

// TEI's /decode: {"ids": [..] | [[..], ..], "skip_special_tokens": true}.
struct DecodeRequest {
  std::vector<std::vector<int32_t>> ids;
  bool batched = false;
  bool skip_special_tokens = true;
};

struct TokenizeRequest {
  TextInputs inputs;
  bool add_special_tokens = true;
};

// TEI's /rerank: one query against many texts.
struct RerankRequest {
  std::string query;
  std::vector<std::string> texts;
  std::optional<bool> truncate;  // nullopt: as --auto-truncate says
  bool raw_scores = false;
  bool return_text = false;
};

// Cohere's and Jina's /v1/rerank: `documents` are strings or {"text": ...}.
struct CohereRerankRequest {
  std::string query;
  std::vector<std::string> documents;
  std::string model;
  std::optional<size_t> top_n;  // > 0 when given
  bool return_documents = false;
};

std::optional<ApiError> ParseEmbedRequest(std::string_view body, const SchemaLimits& limits,
                                          EmbedRequest* out);
std::optional<ApiError> ParsePredictRequest(std::string_view body, const SchemaLimits& limits,
                                            PredictRequest* out);
std::optional<ApiError> ParseOpenAiEmbedRequest(std::string_view body, const SchemaLimits& limits,
                                                OpenAiEmbedRequest* out);
std::optional<ApiError> ParseTokenizeRequest(std::string_view body, const SchemaLimits& limits,
                                             TokenizeRequest* out);
std::optional<ApiError> ParseSimilarityRequest(std::string_view body, const SchemaLimits& limits,
                                               SimilarityRequest* out);
std::optional<ApiError> ParseEmbedAllRequest(std::string_view body, const SchemaLimits& limits,
                                             EmbedAllRequest* out);
std::optional<ApiError> ParseDecodeRequest(std::string_view body, const SchemaLimits& limits,
                                           DecodeRequest* out);
std::optional<ApiError> ParseRerankRequest(std::string_view body, const SchemaLimits& limits,
                                           RerankRequest* out);
std::optional<ApiError> ParseCohereRerankRequest(std::string_view body, const SchemaLimits& limits,
                                                 CohereRerankRequest* out);

}  // namespace mg::serve
