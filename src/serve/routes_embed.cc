// /embed, /similarity, /embed_all, /embed_sparse (TEI) and /v1/embeddings
// (OpenAI): their request bodies and replies, cut to the call's output
// policy (vectors to its dimensions, then rounded; similarities rounded).
#include <cmath>
#include <cstring>

#include "base/json_writer.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

void Normalize(float* row, int64_t width) {
  double norm = 0;
  for (int64_t c = 0; c < width; ++c) norm += static_cast<double>(row[c]) * row[c];
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (int64_t c = 0; c < width; ++c) row[c] *= inv;
}

void AppendRow(std::string* out, const float* row, int64_t width) {
  out->push_back('[');
  for (int64_t c = 0; c < width; ++c) {
    if (c) out->push_back(',');
    AppendJsonFloat(out, row[c]);
  }
  out->push_back(']');
}

// Little-endian float32 bytes in standard base64, as OpenAI's
// encoding_format "base64" sends them.
void AppendBase64(std::string* out, const float* row, int64_t width) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const size_t size = static_cast<size_t>(width) * sizeof(float);
  std::string bytes(size, '\0');
  std::memcpy(bytes.data(), row, size);
  out->push_back('"');
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = static_cast<uint8_t>(bytes[i]);
    const uint32_t b1 = i + 1 < size ? static_cast<uint8_t>(bytes[i + 1]) : 0;
    const uint32_t b2 = i + 2 < size ? static_cast<uint8_t>(bytes[i + 2]) : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out->push_back(kAlphabet[(triple >> 18) & 63]);
    out->push_back(kAlphabet[(triple >> 12) & 63]);
    out->push_back(i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=');
    out->push_back(i + 2 < size ? kAlphabet[triple & 63] : '=');
  }
  out->push_back('"');
}

// The width a reply's embeddings have: `dimensions` when asked (and then
// the row's first `dimensions` values, renormalised when `normalize`), never
// more than the output policy's dimensions.
int64_t ReplyWidth(const Call& call, int64_t width) {
  const int64_t asked = call.dimensions > 0 && call.dimensions < width ? call.dimensions : width;
  return PolicyEmbeddingWidth(call.output, asked);
}

}  // namespace

std::optional<ApiError> ParseEmbedCall(const SchemaLimits& limits, Call* call) {
  EmbedRequest request;
  if (auto error = ParseEmbedRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->normalize = request.normalize;
  call->truncate = request.truncate;
  call->dimensions = request.dimensions;
  return std::nullopt;
}

std::optional<ApiError> ParseOpenAiEmbedCall(const SchemaLimits& limits, Call* call) {
  OpenAiEmbedRequest request;
  if (auto error = ParseOpenAiEmbedRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->openai_model = std::move(request.model);
  call->base64 = request.base64;
  call->dimensions = request.dimensions;
  call->normalize = true;
  call->truncate = true;  // OpenAI clients cannot ask; TEI truncates here too
  return std::nullopt;
}

std::optional<ApiError> ParseSimilarityCall(const SchemaLimits& limits, Call* call) {
  SimilarityRequest request;
  if (auto error = ParseSimilarityRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->truncate = request.truncate;
  return std::nullopt;
}

std::optional<ApiError> ParseEmbedAllCall(const SchemaLimits& limits, Call* call) {
  EmbedAllRequest request;
  if (auto error = ParseEmbedAllRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->truncate = request.truncate;
  return std::nullopt;
}

std::optional<ApiError> RefuseEmbedSparseCall(const SchemaLimits& /*limits*/, Call* /*call*/) {
  return ApiError{424, "backend",
                  "`/embed_sparse` is only available for models with a sparse (SPLADE) head; "
                  "this model has none: use /embed"};
}

std::string FormatSimilarities(const Call& call, const release::ServedModel& /*served*/,
                               BatchResult* result) {
  const int64_t width = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out = "[";
  float* source = result->values.data();
  Normalize(source, width);
  for (int64_t s = 1; s < rows; ++s) {
    float* row = result->values.data() + s * width;
    Normalize(row, width);
    double dot = 0;
    for (int64_t c = 0; c < width; ++c) dot += static_cast<double>(source[c]) * row[c];
    if (s > 1) out.push_back(',');
    AppendPolicyScore(&out, static_cast<float>(dot), call.output);
  }
  out.push_back(']');
  return out;
}

std::string FormatTokenEmbeddings(const Call& call, const release::ServedModel& /*served*/,
                                  BatchResult* result) {
  const int64_t width = result->width;
  const int64_t reply_width = PolicyEmbeddingWidth(call.output, width);
  std::string out = "[";
  for (int64_t s = 0; s < call.packed.sequences(); ++s) {
    if (s) out.push_back(',');
    out.push_back('[');
    for (int64_t t = call.packed.offsets[s]; t < call.packed.offsets[s + 1]; ++t) {
      if (t > call.packed.offsets[s]) out.push_back(',');
      float* row = result->values.data() + t * width;
      RoundEmbedding(call.output, row, reply_width);
      AppendRow(&out, row, reply_width);
    }
    out.push_back(']');
  }
  out.push_back(']');
  return out;
}

std::string FormatEmbeddings(const Call& call, const release::ServedModel& /*served*/,
                             BatchResult* result) {
  const int64_t width = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  out.reserve(static_cast<size_t>(rows * width * 12 + 8));
  out.push_back('[');
  const int64_t reply_width = ReplyWidth(call, width);
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * width;
    if (call.normalize) Normalize(row, reply_width);
    RoundEmbedding(call.output, row, reply_width);
    if (s) out.push_back(',');
    AppendRow(&out, row, reply_width);
  }
  out.push_back(']');
  return out;
}

std::string FormatOpenAiEmbeddings(const Call& call, const release::ServedModel& served,
                                   BatchResult* result) {
  const int64_t width = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  out.reserve(static_cast<size_t>(rows * width * 12 + 128));
  out.append("{\"object\":\"list\",\"data\":[");
  const int64_t reply_width = ReplyWidth(call, width);
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * width;
    Normalize(row, reply_width);
    // The same values whether sent as JSON numbers or as base64 bytes.
    RoundEmbedding(call.output, row, reply_width);
    if (s) out.push_back(',');
    out.append("{\"object\":\"embedding\",\"index\":");
    AppendJsonInt(&out, s);
    out.append(",\"embedding\":");
    if (call.base64) {
      AppendBase64(&out, row, reply_width);
    } else {
      AppendRow(&out, row, reply_width);
    }
    out.push_back('}');
  }
  out.append("],\"model\":");
  AppendJsonString(&out, call.openai_model.empty() ? served.model_id : call.openai_model);
  out.append(",\"usage\":{\"prompt_tokens\":");
  AppendJsonInt(&out, call.packed.tokens());
  out.append(",\"total_tokens\":");
  AppendJsonInt(&out, call.packed.tokens());
  out.append("}}");
  return out;
}

}  // namespace mg::serve
