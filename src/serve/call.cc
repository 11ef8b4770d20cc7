#include "serve/call.h"

namespace mg::serve {

std::optional<ApiError> ParseCall(const SchemaLimits& limits, Call* call) {
  switch (call->route) {
    case Route::kEmbed: {
      EmbedRequest request;
      if (auto error = ParseEmbedRequest(call->request.body, limits, &request)) return error;
      call->inputs = std::move(request.inputs);
      call->normalize = request.normalize;
      call->truncate = request.truncate;
      return std::nullopt;
    }
    case Route::kOpenAiEmbed: {
      OpenAiEmbedRequest request;
      if (auto error = ParseOpenAiEmbedRequest(call->request.body, limits, &request)) {
        return error;
      }
      call->inputs = std::move(request.inputs);
      call->openai_model = std::move(request.model);
      call->base64 = request.base64;
      call->normalize = true;
      call->truncate = true;  // OpenAI clients cannot ask; TEI truncates here too
      return std::nullopt;
    }
    case Route::kPredict: {
      PredictRequest request;
      if (auto error = ParsePredictRequest(call->request.body, limits, &request)) return error;
      call->inputs = std::move(request.inputs);
      call->truncate = request.truncate;
      call->raw_scores = request.raw_scores;
      return std::nullopt;
    }
    case Route::kTokenize: {
      TokenizeRequest request;
      if (auto error = ParseTokenizeRequest(call->request.body, limits, &request)) return error;
      call->inputs = std::move(request.inputs);
      call->add_special_tokens = request.add_special_tokens;
      return std::nullopt;
    }
    case Route::kItems:  // parsed in routes_recommend.cc
    case Route::kItemsDelete:
    case Route::kRecommend:
      break;
  }
  return Validation("unknown route");
}

}  // namespace mg::serve
