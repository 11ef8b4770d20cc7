// Request schemas: the JSON bodies of the inference routes in the shapes of
// Hugging Face text-embeddings-inference (/embed, /predict, /tokenize,
// /rerank), OpenAI (/v1/embeddings) and Cohere (/v1/rerank), parsed and
// validated into plain structs.
//
// Malformed JSON and invalid UTF-8 are 400; a wrong type, a missing or empty
// input or too many inputs is 422 (SPEC.md). Unknown fields are ignored, as
// TEI and OpenAI do. Pure functions; thread-safe.
#pragma once

#include <cstddef>
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
  bool batched = false;
};

struct SchemaLimits {
  size_t max_inputs = 32;  // TEI's max_client_batch_size
};

struct EmbedRequest {
  TextInputs inputs;
  bool normalize = true;
  bool truncate = false;
};

struct PredictRequest {
  TextInputs inputs;
  bool truncate = false;
  bool raw_scores = false;
};

struct OpenAiEmbedRequest {
  TextInputs inputs;
  std::string model;
  bool base64 = false;  // encoding_format "base64"
};

struct TokenizeRequest {
  TextInputs inputs;
  bool add_special_tokens = true;
};

// TEI's /rerank: one query against many texts.
struct RerankRequest {
  std::string query;
  std::vector<std::string> texts;
  bool truncate = false;
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
std::optional<ApiError> ParseRerankRequest(std::string_view body, const SchemaLimits& limits,
                                           RerankRequest* out);
std::optional<ApiError> ParseCohereRerankRequest(std::string_view body, const SchemaLimits& limits,
                                                 CohereRerankRequest* out);

}  // namespace mg::serve
